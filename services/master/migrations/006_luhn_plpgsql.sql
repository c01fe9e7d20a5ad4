-- 006_luhn_plpgsql.sql - the Luhn check of 001 as a loop instead of a generate_series subquery:
-- about three times faster per row, which bulk imports of institution codes feel. Same answers
-- (checked against the old body over 100,000 codes when written).
CREATE OR REPLACE FUNCTION master.luhn_ok(c text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    n int := length(c);
    s int := 0;
    d int;
BEGIN
    IF n < 2 OR c !~ '^[0-9]+$' THEN
        RETURN false;
    END IF;
    FOR i IN 1 .. n - 1 LOOP
        d := ascii(substr(c, n - i, 1)) - 48;
        IF i % 2 = 1 THEN
            d := d * 2;
            IF d > 9 THEN
                d := d - 9;
            END IF;
        END IF;
        s := s + d;
    END LOOP;
    RETURN (10 - s % 10) % 10 = ascii(substr(c, n, 1)) - 48;
END $$;
