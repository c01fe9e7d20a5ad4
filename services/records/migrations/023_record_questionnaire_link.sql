-- 023_record_questionnaire_link.sql - one meaning for the two links between a record and its
-- screening questionnaire: a record's questionnaire_id (named at registration) must be an answer
-- of the same person; the answer side (q_answers.record_id, POST /answers/:id/record) keeps
-- its own rules (judged fit, consent agreed, same institution). NOT VALID: rows written before
-- this migration are not re-checked.
ALTER TABLE records.q_answers ADD CONSTRAINT q_answers_id_person UNIQUE (id, person_id);
ALTER TABLE records.immunizations ADD CONSTRAINT immunizations_questionnaire
    FOREIGN KEY (questionnaire_id, person_id) REFERENCES records.q_answers (id, person_id) NOT VALID;
