-- bank_master.sql - bank and branch codes checked against the bank master as of a day (service.c).

-- name: pay_bank_check
-- $1 bank_code: text, 4 digits
-- $2 branch_code: text, 3 digits
-- $3 as_of: date, the day the master must know them
-- Is the bank in the bank master on the day, is its branch, and when did the branch close (NULL:
-- not closed before the day).
SELECT EXISTS (SELECT 1
               FROM master.banks b
               WHERE b.code = $1
                 AND b.superseded_at IS NULL
                 AND b.valid_from <= $3::date
                 AND (b.valid_to IS NULL OR b.valid_to >= $3::date)),
       EXISTS (SELECT 1
               FROM master.bank_branches s
               WHERE s.bank_code = $1
                 AND s.code = $2
                 AND s.superseded_at IS NULL
                 AND s.valid_from <= $3::date
                 AND (s.valid_to IS NULL OR s.valid_to >= $3::date)),
       (SELECT max(s.valid_to)::text
        FROM master.bank_branches s
        WHERE s.bank_code = $1
          AND s.code = $2
          AND s.superseded_at IS NULL
          AND s.valid_to < $3::date);
