-- 002_immunization_json.sql - the JSON view of a vaccination record, one place for every
-- handler (records, feeds, queries) and for the self-view/FHIR side.
CREATE FUNCTION records.immunization_json(i records.immunizations) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', i.id, 'person_id', i.person_id, 'muni_code', i.muni_code,
        'version', i.version, 'status', i.status, 'vaccinated_on', i.vaccinated_on,
        'vaccine_code', i.vaccine_code, 'disease_codes', to_jsonb(i.disease_codes),
        'dose_number', i.dose_number, 'dose_label', i.dose_label, 'lot_no', i.lot_no,
        'institution_code', i.institution_code, 'doctor_name', i.doctor_name,
        'dose_ml', i.dose_ml, 'site', i.site, 'category', i.category,
        'requested_category', i.requested_category, 'source', i.source,
        'schedule_code', i.schedule_code, 'claimable', i.claimable, 'flags', to_jsonb(i.flags),
        'pregnancy_weeks', i.pregnancy_weeks, 'questionnaire_id', i.questionnaire_id,
        'note', i.note, 'registered_org_id', i.registered_org_id,
        'registered_by', i.registered_by, 'registered_at', i.registered_at,
        'updated_by', i.updated_by, 'updated_at', i.updated_at, 'void_reason', i.void_reason)
$$;
