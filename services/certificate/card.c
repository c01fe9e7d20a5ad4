/* card.c - the card's content: a FHIR R4 Bundle (type collection) of one Patient and its
 * Immunizations, minimised as the SMART Health Cards spec asks for a QR (no Resource.id, meta,
 * text, CodeableConcept.text or Coding.display; `resource:N` references), in the payload
 * {iss, nbf, vc: {type, credentialSubject: {fhirVersion, fhirBundle}, rid}}. */
#include <stdio.h>
#include <string.h>

#include "cert.h"

#define SYS_HOT9  "urn:oid:1.2.392.200119.4.403.1"
#define SYS_HOT13 "urn:oid:1.2.392.200119.4.402.1"
#define SYS_YJ    "urn:oid:1.2.392.100495.20.1.73"

static const char *vaccine_system(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    return n == 9 ? SYS_HOT9 : n == 13 ? SYS_HOT13 : SYS_YJ;
}

/* "接種 太郎" -> family 接種, given [太郎]; the first space (ASCII or U+3000) splits. */
static json_t *human_name(const char *name)
{
    const char *sp = strchr(name, ' ');
    const char *wide = strstr(name, "\u3000");
    size_t skip = 1;

    if (wide != NULL && (sp == NULL || wide < sp)) {
        sp = wide;
        skip = 3;
    }
    if (sp == NULL || sp == name || sp[skip] == '\0')
        return json_pack("{s:s}", "family", name);
    return json_pack("{s:s%,s:[s]}", "family", name, (size_t)(sp - name), "given", sp + skip);
}

json_t *cert_card_payload(const json_t *person, const json_t *doses, const char *rid, long long nbf)
{
    const char *name = json_string_value(json_object_get(person, "name"));
    const char *birth = json_string_value(json_object_get(person, "birth_date"));
    json_t *entries = json_array(), *patient, *d, *imm;
    size_t i;
    char url[40];

    if (entries == NULL || name == NULL || birth == NULL)
        goto fail;
    patient = json_pack("{s:s,s:[o],s:s}", "resourceType", "Patient", "name", human_name(name),
                        "birthDate", birth);
    if (json_array_append_new(
            entries, json_pack("{s:s,s:o}", "fullUrl", "resource:0", "resource", patient)) != 0)
        goto fail;
    json_array_foreach (doses, i, d) {
        const char *code = json_string_value(json_object_get(d, "vaccine_code"));
        const char *lot = json_string_value(json_object_get(d, "lot_no"));
        const char *inst = json_string_value(json_object_get(d, "institution_name"));
        json_int_t dose = json_integer_value(json_object_get(d, "dose_number"));

        imm = json_pack("{s:s,s:s,s:{s:[{s:s,s:s}]},s:{s:s},s:s}", "resourceType", "Immunization",
                        "status", "completed", "vaccineCode", "coding", "system",
                        vaccine_system(code), "code", code ? code : "", "patient", "reference",
                        "resource:0", "occurrenceDateTime",
                        json_string_value(json_object_get(d, "vaccinated_on")));
        if (imm == NULL)
            goto fail;
        if (lot != NULL)
            json_object_set_new(imm, "lotNumber", json_string(lot));
        /* Reference.display names the performer (only Coding.display is dropped). */
        if (inst != NULL)
            json_object_set_new(imm, "performer",
                                json_pack("[{s:{s:s}}]", "actor", "display", inst));
        if (dose > 0)
            json_object_set_new(imm, "protocolApplied",
                                json_pack("[{s:I}]", "doseNumberPositiveInt", dose));
        snprintf(url, sizeof(url), "resource:%zu", i + 1);
        if (json_array_append_new(entries,
                                  json_pack("{s:s,s:o}", "fullUrl", url, "resource", imm)) != 0)
            goto fail;
    }
    return json_pack("{s:s,s:I,s:{s:[s,s],s:{s:s,s:{s:s,s:s,s:o}},s:s}}", "iss", cert_issuer(),
                     "nbf", (json_int_t)nbf, "vc", "type", "https://smarthealth.cards#health-card",
                     "https://smarthealth.cards#immunization", "credentialSubject", "fhirVersion",
                     "4.0.1", "fhirBundle", "resourceType", "Bundle", "type", "collection", "entry",
                     entries, "rid", rid);
fail:
    json_decref(entries);
    return NULL;
}

/* The patient's name back as one string: family + " " + given. */
static json_t *name_text(const json_t *patient)
{
    const json_t *n = json_array_get(json_object_get(patient, "name"), 0);
    const char *fam = json_string_value(json_object_get(n, "family"));
    const char *giv = json_string_value(json_array_get(json_object_get(n, "given"), 0));
    char buf[512];

    if (fam == NULL)
        return json_null();
    snprintf(buf, sizeof(buf), "%s%s%s", fam, giv ? " " : "", giv ? giv : "");
    return json_string(buf);
}

json_t *cert_card_decode(const json_t *payload)
{
    const json_t *bundle = json_object_get(
        json_object_get(json_object_get(payload, "vc"), "credentialSubject"), "fhirBundle");
    json_t *doses = json_array(), *patient = json_null(), *e;
    size_t i;

    json_array_foreach (json_object_get(bundle, "entry"), i, e) {
        const json_t *res = json_object_get(e, "resource");
        const char *type = json_string_value(json_object_get(res, "resourceType"));

        if (type != NULL && strcmp(type, "Patient") == 0) {
            json_decref(patient);
            patient = json_pack("{s:o,s:O?}", "name", name_text(res), "birth_date",
                                json_object_get(res, "birthDate"));
        } else if (type != NULL && strcmp(type, "Immunization") == 0 && doses != NULL) {
            const json_t *c =
                json_array_get(json_object_get(json_object_get(res, "vaccineCode"), "coding"), 0);
            json_t *dn = json_object_get(json_array_get(json_object_get(res, "protocolApplied"), 0),
                                         "doseNumberPositiveInt");
            json_t *perf = json_object_get(
                json_object_get(json_array_get(json_object_get(res, "performer"), 0), "actor"),
                "display");
            json_array_append_new(doses,
                                  json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}", "vaccinated_on",
                                            json_object_get(res, "occurrenceDateTime"),
                                            "vaccine_system", json_object_get(c, "system"),
                                            "vaccine_code", json_object_get(c, "code"), "lot_no",
                                            json_object_get(res, "lotNumber"), "performer", perf,
                                            "dose_number", dn));
        }
    }
    return json_pack("{s:o,s:o}", "patient", patient, "doses", doses);
}
