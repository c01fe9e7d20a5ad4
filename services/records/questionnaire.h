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

/* An answer set as JSON text (aliases: a = records.q_answers, t = records.q_templates). */
#define REC_Q_ANSWER_JSON                                                                      \
    "jsonb_build_object('id', a.id, 'person_id', a.person_id, 'template', jsonb_build_object(" \
    "'id', t.id, 'code', t.code, 'version', t.version, 'title', t.title), 'visit_on', "        \
    "a.visit_on, 'age_months', a.age_months, 'vaccine_code', a.vaccine_code, "                 \
    "'institution_code', a.institution_code, 'submitted_via', a.submitted_via, 'answers', "    \
    "a.answers, 'judgement', CASE WHEN a.judgement IS NULL THEN NULL ELSE jsonb_build_object(" \
    "'result', a.judgement, 'note', a.judgement_note, 'doctor_name', a.doctor_name, "          \
    "'explained', a.explained, 'consent', a.consent, 'consent_signer', a.consent_signer, "     \
    "'judged_at', a.judged_at) END, 'record_id', a.record_id, 'linked_at', a.linked_at, "      \
    "'created_at', a.created_at)::text"

/* Does template t apply to vaccine product p (a SQL parameter)? Listed by the template, or a
 * product of the master (any of its versions) against one of the template's diseases. */
#define REC_Q_TEMPLATE_FOR_VACCINE(p)                                                           \
    "(" p " = ANY (t.vaccine_codes) OR EXISTS (SELECT 1 FROM master.vaccines mv WHERE mv.code " \
    "= " p " AND mv.disease_codes && t.disease_codes))"

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
