/* seal.h - secrets at rest: AES-256-GCM sealing and keyed hashes (HMAC-SHA256), OpenSSL.
 *
 * For data that must be stored encrypted yet found by value (the 個人番号): store
 * ss_seal() of the value and, for look-ups, ss_keyed_hash_hex() of it under a second key.
 * Keys are 32 bytes, configured as 64 hexadecimal characters through ss_cfg_secret()
 * (NAME or the file named by NAME_FILE); they are never logged. */
#ifndef SESSHU_SEAL_H
#define SESSHU_SEAL_H

#include <stddef.h>

#define SS_SEAL_KEY_BYTES   32
#define SS_SEAL_NONCE_BYTES 12
#define SS_SEAL_TAG_BYTES   16
/* Bytes ss_seal() adds to the plaintext: nonce in front, tag behind. */
#define SS_SEAL_OVERHEAD (SS_SEAL_NONCE_BYTES + SS_SEAL_TAG_BYTES)

/* Load a 32-byte key given as 64 hex characters by the secret NAME (or NAME_FILE).
 * 0, or SS_ERR_VALIDATION when unset or malformed (the message names NAME only). */
int ss_seal_key_load(const char *name, unsigned char key[SS_SEAL_KEY_BYTES]);

/* AES-256-GCM with a random 96-bit nonce; aad (may be NULL when aadlen is 0) is bound to the
 * ciphertext. out must hold len + SS_SEAL_OVERHEAD bytes: nonce || ciphertext || tag. */
int ss_seal(const unsigned char key[SS_SEAL_KEY_BYTES], const void *pt, size_t len, const void *aad,
            size_t aadlen, unsigned char *out);
/* Inverse of ss_seal(): sealed is nonce || ciphertext || tag (len >= SS_SEAL_OVERHEAD); out
 * must hold len - SS_SEAL_OVERHEAD bytes. 0, or SS_ERR_VALIDATION when the tag does not verify
 * (wrong key, wrong aad, tampered data). */
int ss_unseal(const unsigned char key[SS_SEAL_KEY_BYTES], const unsigned char *sealed, size_t len,
              const void *aad, size_t aadlen, unsigned char *out);

/* HMAC-SHA256 of data under key as lower-case hex (65 bytes with NUL). */
void ss_keyed_hash_hex(const unsigned char *key, size_t keylen, const void *data, size_t len,
                       char out[65]);

#endif
