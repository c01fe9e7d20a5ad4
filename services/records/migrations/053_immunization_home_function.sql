-- 053_immunization_home_function.sql - a record's partition from its id, as a function (issue 11,
-- issue 15 §3).
--
-- 051 made the reads of a record by id name its partition with a subquery on
-- records.immunization_homes; that rules out the other 15 partitions only after the executor has
-- set them up ("never executed"), and the set-up is most of the cost. A STABLE function is
-- evaluated when the executor starts, so the other partitions are removed before it ("Subplans
-- Removed: 15"), as 052 does for persons with records.person_home. plpgsql rather than SQL: a SQL
-- function with a FROM clause would be inlined and planned again at every call.
CREATE FUNCTION records.immunization_home(record uuid) RETURNS char(6)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT h.muni_code FROM records.immunization_homes h WHERE h.id = record);
END
$$;
