-- 045_residences_resident_no.sql - a former residence found by its 宛名番号 without a scan: the
-- staff list by resident_no (sql/persons.sql rec_person_list_by_resident_no) looks the number
-- up in persons (persons_resident_no) and in residences (this index), bench/scale.sh.
CREATE INDEX residences_resident_no ON records.residences (muni_code, resident_no);
