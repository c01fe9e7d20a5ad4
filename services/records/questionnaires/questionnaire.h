/* questionnaire.h - what the H-4 (予診票) and H-7 (母子保健・健診情報) files of the records
 * service share: their handlers (routed in service.c, third group) and small helpers.
 *
 *   template.c, template_check.c    questionnaire templates, versioned; the answer check
 *   questionnaire.c                 answers: staff submission, judgement, record link, queries
 *   questionnaire_self.c            answers through the portal (vaccinee principals)
 *   questionnaire_util.c            master code lists
 *   mch*.c                          maternal/child health records (mch.h) */
#ifndef REC_QUESTIONNAIRE_H
#define REC_QUESTIONNAIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "rec.h"
#include "sesshu/http.h"

/* Templates (template.c). */
int rec_q_h_template_list(ss_req *r);
int rec_q_h_template_get(ss_req *r);
int rec_q_h_template_create(ss_req *r);
int rec_q_h_template_update(ss_req *r);

/* Answers, staff side (questionnaire.c). */
int rec_q_h_answer_create(ss_req *r);
int rec_q_h_answer_list(ss_req *r);
int rec_q_h_answer_get(ss_req *r);
int rec_q_h_answer_judge(ss_req *r);
int rec_q_h_answer_link(ss_req *r);

/* Answers, vaccinee side (questionnaire_self.c). */
int rec_q_h_self_create(ss_req *r);
int rec_q_h_self_list(ss_req *r);
int rec_q_h_self_get(ss_req *r);

/* questionnaire.c: the caller's scope (municipality code or institution code, the other NULL;
 * 403 for other callers), and the submission both sides share: r->body is checked against the
 * answer fields already; validates against the template version, inserts, replies 201. */
int rec_q_scope(ss_req *r, const char **muni, const char **inst);
int rec_q_answer_submit(ss_req *r, const char *via, const char *inst);

/* template_check.c. Each records field errors through ss_req_field_error and returns 0 or
 * SS_ERR_VALIDATION (SS_ERR_NOMEM on allocation failure). Nothing is stolen. */
bool rec_q_code_ok(const char *s);
bool rec_q_text_ok(const char *s, size_t min, size_t max);
int rec_q_template_check(ss_req *r, const json_t *questions);
/* age_months: completed months on the answer date; sex "1"/"2" or NULL. */
int rec_q_answers_check(ss_req *r, const json_t *questions, const json_t *answers, int age_months,
                        const char *sex);

/* questionnaire_util.c */
/* Is s a master code of the shape vaccines and diseases use (1..20 of [0-9A-Za-z_-])? */
bool rec_qm_master_code_ok(const char *s);
/* A field error for each item of arr (JSON array of strings, at most max) that is not a master
 * code or is repeated; *out gets a compact JSON array text (malloc'd, caller frees). */
int rec_qm_code_list(ss_req *r, const char *field, const json_t *arr, size_t max, char **out);

#endif
