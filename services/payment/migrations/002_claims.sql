-- 002_claims.sql - claims (請求): claim lines priced from the unit-price master, monthly
-- batches per institution, the 国保連合会's review (事務点検), 過誤調整 lines, and the
-- municipalities' 依頼書 (住所地外接種) that make an out-of-area vaccination payable.
--
-- Records are the records service's: a line keeps the record id and version it was priced from
-- (no foreign key across services). Amounts are integers in yen. Months are first days.

-- A municipality's 依頼書 (住所地外接種): its resident may be vaccinated, at its expense, by an
-- institution outside its area (DOMAIN.md 4.1; 予防接種法 実施要領 第1-18 "他の市町村での接種").
CREATE TABLE payment.referrals (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    muni_code        char(6) NOT NULL,
    person_id        uuid NOT NULL,
    institution_code text NOT NULL CHECK (institution_code ~ '^[0-9]{10}$'),
    vaccine_code     text,
    valid_from       date NOT NULL,
    valid_to         date NOT NULL CHECK (valid_to >= valid_from),
    note             text CHECK (length(note) <= 1000),
    created_by       text NOT NULL,
    created_org_id   uuid NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referrals_person ON payment.referrals (person_id, institution_code);

-- One batch per institution and claim month: open (lines still arrive), closed (by the
-- institution or on the close day; reviewed by the 国保連合会), reviewed (every line decided).
CREATE TABLE payment.claim_batches (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid,
    institution_code text NOT NULL,
    pref_code        char(2) NOT NULL,
    claim_month      date NOT NULL CHECK (payment.month_ok(claim_month)),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'reviewed')),
    closed_how       text CHECK (closed_how IN ('institution', 'close_day')),
    closed_by        text,
    closed_at        timestamptz,
    reviewed_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (institution_code, claim_month),
    CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE INDEX claim_batches_pref ON payment.claim_batches (pref_code, claim_month);

-- A claim line: `claim` (a record priced) or `adjustment` (過誤調整: a record corrected or
-- voided after its month was closed; the difference, possibly negative, in a later month).
CREATE TABLE payment.claim_lines (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq              bigserial UNIQUE,
    batch_id         uuid NOT NULL REFERENCES payment.claim_batches (id),
    kind             text NOT NULL CHECK (kind IN ('claim', 'adjustment')),
    record_id        uuid NOT NULL,
    record_version   int NOT NULL,
    record_status    text NOT NULL,
    person_id        uuid NOT NULL,
    muni_code        char(6) NOT NULL,
    institution_code text NOT NULL,
    pref_code        char(2) NOT NULL,
    vaccinated_on    date NOT NULL,
    vaccine_code     text NOT NULL,
    dose_number      int,
    basis            text CHECK (basis IN ('unit_price', 'collective_contract')),
    contract_code    text,
    price_yen        int,
    self_pay_yen     int,
    claim_yen        int NOT NULL,
    eligibility      text NOT NULL CHECK (eligibility IN ('in_area', 'collective_contract',
                                                          'referral', 'out_of_area', 'none')),
    referral_id      uuid REFERENCES payment.referrals (id),
    flags            text[] NOT NULL DEFAULT '{}',
    status           text NOT NULL CHECK (status IN ('claimed', 'returned', 'accepted', 'adjusted')),
    approved_yen     int,
    return_reason    text,
    review_reason    text,
    reviewed_by      text,
    reviewed_org_id  uuid,
    reviewed_at      timestamptz,
    reclaim_of       uuid UNIQUE REFERENCES payment.claim_lines (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'adjustment' OR claim_yen >= 0),
    CHECK ((status IN ('accepted', 'adjusted')) = (approved_yen IS NOT NULL)),
    CHECK (status <> 'returned' OR return_reason IS NOT NULL)
);
CREATE INDEX claim_lines_record ON payment.claim_lines (record_id, seq);
CREATE INDEX claim_lines_batch ON payment.claim_lines (batch_id, seq);
CREATE INDEX claim_lines_dup ON payment.claim_lines (person_id, vaccine_code, dose_number);
CREATE INDEX claim_lines_muni ON payment.claim_lines (muni_code, seq);

-- The first claim month still open to new lines: the previous month up to its close day (the
-- institution claims by the 10th of the month after vaccination, DOMAIN.md 4.1), else this one.
CREATE FUNCTION payment.open_month_on(close_day int, t date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT (date_trunc('month', t) - CASE WHEN extract(day FROM t) <= close_day
            THEN interval '1 month' ELSE interval '0' END)::date
$$;
CREATE FUNCTION payment.open_month(close_day int) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT payment.open_month_on(close_day, (now() AT TIME ZONE 'Asia/Tokyo')::date)
$$;

-- The month a new line of an institution goes to: the earliest month from m0 whose batch is
-- not closed (a closed month is never edited).
CREATE FUNCTION payment.claim_month_for(inst text, m0 date) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT min(m)::date FROM generate_series(m0, m0 + interval '120 months', interval '1 month') m
     WHERE NOT EXISTS (SELECT 1 FROM payment.claim_batches b WHERE b.institution_code = inst
                          AND b.claim_month = m::date AND b.status <> 'open')
$$;

CREATE FUNCTION payment.batch_for(org uuid, inst text, pref text, m date) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    bid uuid;
BEGIN
    INSERT INTO payment.claim_batches (org_id, institution_code, pref_code, claim_month)
    VALUES (org, inst, pref, m) ON CONFLICT (institution_code, claim_month) DO NOTHING;
    SELECT b.id INTO bid FROM payment.claim_batches b
     WHERE b.institution_code = inst AND b.claim_month = m;
    RETURN bid;
END
$$;

-- The price of a vaccination: the 集合契約 price where the institution takes part in a contract
-- for the product on the day, else the municipality's 委託単価 for product × dose on the day;
-- the municipality's 自己負担 is deducted in both cases (DOMAIN.md 4.1 item 5, 4.2).
CREATE FUNCTION payment.price_of(muni text, inst text, vaccine text, dose int, on_day date,
                                 OUT basis text, OUT contract_code text, OUT price_yen int,
                                 OUT self_pay_yen int)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    up record;
    cc record;
BEGIN
    SELECT u.price_yen, u.self_pay_yen INTO up FROM master.unit_prices u
     WHERE u.municipality_code = muni AND u.vaccine_code = vaccine AND u.dose_number = dose
       AND u.superseded_at IS NULL AND u.valid_from <= on_day
       AND (u.valid_to IS NULL OR u.valid_to >= on_day)
     ORDER BY u.valid_from DESC LIMIT 1;
    SELECT c.contract_code, c.price_yen INTO cc FROM master.collective_contracts c
     WHERE c.institution_code = inst AND c.vaccine_code = vaccine AND c.superseded_at IS NULL
       AND c.valid_from <= on_day AND (c.valid_to IS NULL OR c.valid_to >= on_day)
     ORDER BY c.valid_from DESC, c.contract_code LIMIT 1;
    IF cc.contract_code IS NOT NULL THEN
        basis := 'collective_contract';
        contract_code := cc.contract_code;
        price_yen := cc.price_yen;
        self_pay_yen := coalesce(up.self_pay_yen, 0);
    ELSIF up.price_yen IS NOT NULL THEN
        basis := 'unit_price';
        price_yen := up.price_yen;
        self_pay_yen := up.self_pay_yen;
    END IF;
END
$$;

-- Who pays an institution for a resident of muni: in its area (the same prefecture: the
-- prefecture-wide 広域化 scheme, DOMAIN.md 4.1), or outside it only under a 集合契約 it takes
-- part in for the product, or a 依頼書 of the municipality for this person, institution,
-- product and day. 'out_of_area' is not payable (返戻).
CREATE FUNCTION payment.eligibility_of(muni text, inst text, person uuid, vaccine text,
                                       on_day date, contract text,
                                       OUT eligibility text, OUT referral_id uuid)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF substr(muni, 1, 2) = substr(inst, 1, 2) THEN
        eligibility := 'in_area';
    ELSIF contract IS NOT NULL THEN
        eligibility := 'collective_contract';
    ELSE
        SELECT f.id INTO referral_id FROM payment.referrals f
         WHERE f.person_id = person AND f.muni_code = muni AND f.institution_code = inst
           AND (f.vaccine_code IS NULL OR f.vaccine_code = vaccine)
           AND f.valid_from <= on_day AND f.valid_to >= on_day
         ORDER BY f.created_at LIMIT 1;
        eligibility := CASE WHEN referral_id IS NULL THEN 'out_of_area' ELSE 'referral' END;
    END IF;
END
$$;

-- What was settled for a record in closed months: the approved amount of decided lines, the
-- claimed amount of lines still under review, nothing for returned ones.
CREATE FUNCTION payment.settled_yen(rid uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(coalesce(l.approved_yen, l.claim_yen)), 0)
      FROM payment.claim_lines l JOIN payment.claim_batches b ON b.id = l.batch_id
     WHERE l.record_id = rid AND b.status <> 'open' AND l.status <> 'returned'
$$;

-- One record of the records service (its JSON view) into the institution's claims; the caller
-- holds the institution's advisory lock. Answers what happened: added, updated (a line of an
-- open month re-priced), adjusted (a 過誤調整 line), unchanged, not_claimable, skipped.
CREATE FUNCTION payment.collect_record(org uuid, inst text, pref text, close_day int, rec jsonb)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    rid      uuid := (rec->>'id')::uuid;
    ver      int := (rec->>'version')::int;
    live     boolean := coalesce(rec->>'status', '') <> 'voided'
                        AND coalesce((rec->>'claimable')::boolean, false);
    muni     text := rec->>'muni_code';
    vac      text := rec->>'vaccine_code';
    dose     int := (rec->>'dose_number')::int;
    day      date := (rec->>'vaccinated_on')::date;
    person   uuid := (rec->>'person_id')::uuid;
    last     payment.claim_lines;
    bstatus  text;
    p        record;
    e        record;
    amount   int;
    st       text;
    why      text;
    dup      boolean;
    m        date;
    bid      uuid;
BEGIN
    IF rec->>'institution_code' IS DISTINCT FROM inst OR rid IS NULL OR ver IS NULL THEN
        RETURN 'skipped';
    END IF;
    SELECT * INTO last FROM payment.claim_lines l WHERE l.record_id = rid
     ORDER BY l.seq DESC LIMIT 1;
    IF last.id IS NOT NULL AND last.record_version >= ver THEN
        RETURN 'unchanged';
    END IF;
    IF last.id IS NULL AND NOT live THEN
        RETURN 'not_claimable';
    END IF;
    SELECT * INTO p FROM payment.price_of(muni, inst, vac, dose, day);
    SELECT * INTO e FROM payment.eligibility_of(muni, inst, person, vac, day, p.contract_code);
    amount := CASE WHEN p.price_yen IS NULL THEN 0 ELSE greatest(p.price_yen - p.self_pay_yen, 0) END;
    IF NOT live THEN
        st := 'claimed'; why := NULL; amount := 0;
    ELSIF e.eligibility = 'out_of_area' THEN
        st := 'returned';
        why := '住所地外接種: the institution is outside the municipality''s area (prefecture '
               || substr(muni, 1, 2) || '), takes part in no 集合契約 for the product and the '
               || 'municipality registered no 依頼書 for this person';
    ELSIF p.price_yen IS NULL THEN
        st := 'returned';
        why := 'no unit price (委託単価) of municipality ' || muni || ' for product ' || vac
               || ' dose ' || coalesce(dose::text, '-') || ' on ' || day;
    ELSE
        st := 'claimed';
    END IF;
    IF st = 'returned' THEN amount := 0; END IF;
    IF last.id IS NOT NULL THEN
        SELECT b.status INTO bstatus FROM payment.claim_batches b WHERE b.id = last.batch_id;
    END IF;
    -- Not billed yet: the line of the open month is priced again.
    IF last.id IS NOT NULL AND bstatus = 'open' AND last.kind = 'claim' AND live THEN
        UPDATE payment.claim_lines SET record_version = ver, record_status = rec->>'status',
               muni_code = muni, vaccinated_on = day, vaccine_code = vac, dose_number = dose,
               basis = p.basis, contract_code = p.contract_code, price_yen = p.price_yen,
               self_pay_yen = p.self_pay_yen, claim_yen = amount, eligibility = e.eligibility,
               referral_id = e.referral_id, status = st, return_reason = why, updated_at = now()
         WHERE id = last.id;
        RETURN 'updated';
    END IF;
    IF last.id IS NOT NULL AND bstatus = 'open' THEN
        DELETE FROM payment.claim_lines WHERE id = last.id;
        IF NOT EXISTS (SELECT 1 FROM payment.claim_lines l WHERE l.record_id = rid) THEN
            RETURN 'updated';
        END IF;
    END IF;
    m := payment.claim_month_for(inst, greatest(date_trunc('month', day)::date,
                                                payment.open_month(close_day)));
    bid := payment.batch_for(org, inst, pref, m);
    IF EXISTS (SELECT 1 FROM payment.claim_lines l WHERE l.record_id = rid) THEN
        -- 過誤調整: the difference with what the closed months settled for the record.
        amount := amount - payment.settled_yen(rid);
        INSERT INTO payment.claim_lines (batch_id, kind, record_id, record_version, record_status,
               person_id, muni_code, institution_code, pref_code, vaccinated_on, vaccine_code,
               dose_number, basis, contract_code, price_yen, self_pay_yen, claim_yen, eligibility,
               referral_id, status, return_reason)
        VALUES (bid, 'adjustment', rid, ver, rec->>'status', person, muni, inst, pref, day, vac,
                dose, p.basis, p.contract_code, p.price_yen, p.self_pay_yen, amount,
                CASE WHEN live THEN e.eligibility ELSE 'none' END, e.referral_id,
                CASE WHEN live THEN st ELSE 'claimed' END,
                CASE WHEN live THEN why END);
        RETURN 'adjusted';
    END IF;
    dup := EXISTS (SELECT 1 FROM payment.claim_lines l WHERE l.person_id = person
                      AND l.vaccine_code = vac AND l.dose_number = dose AND l.record_id <> rid
                      AND l.kind = 'claim' AND l.status <> 'returned');
    INSERT INTO payment.claim_lines (batch_id, kind, record_id, record_version, record_status,
           person_id, muni_code, institution_code, pref_code, vaccinated_on, vaccine_code,
           dose_number, basis, contract_code, price_yen, self_pay_yen, claim_yen, eligibility,
           referral_id, status, return_reason, flags)
    VALUES (bid, 'claim', rid, ver, rec->>'status', person, muni, inst, pref, day, vac, dose,
            p.basis, p.contract_code, p.price_yen, p.self_pay_yen, amount, e.eligibility,
            e.referral_id, st, why, CASE WHEN dup THEN '{duplicate}'::text[] ELSE '{}' END);
    RETURN 'added';
END
$$;

-- Batches whose close day has passed are closed (the 10th of the following month by default).
CREATE FUNCTION payment.close_due(inst text, close_day int) RETURNS void
LANGUAGE sql AS $$
    UPDATE payment.claim_batches b SET status = 'closed', closed_how = 'close_day',
           closed_at = now()
     WHERE b.institution_code = inst AND b.status = 'open'
       AND b.claim_month < payment.open_month(close_day)
$$;

-- A returned line claimed again (the institution corrected what made it returnable, or the
-- municipality registered its 依頼書 since): priced and judged again as of its vaccination
-- day, a new line in the first open month; the returned line stays as it was. NULL when the
-- line is not the record's last or not returned.
CREATE FUNCTION payment.reclaim_line(lid uuid, close_day int) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    o    payment.claim_lines;
    b    payment.claim_batches;
    p    record;
    e    record;
    st   text := 'claimed';
    why  text;
    amt  int;
    nid  uuid;
BEGIN
    SELECT * INTO o FROM payment.claim_lines l WHERE l.id = lid;
    IF o.id IS NULL OR o.status <> 'returned' OR o.kind <> 'claim' OR EXISTS (SELECT 1 FROM payment.claim_lines l
            WHERE l.record_id = o.record_id AND l.seq > o.seq) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO b FROM payment.claim_batches x WHERE x.id = o.batch_id;
    SELECT * INTO p FROM payment.price_of(o.muni_code, o.institution_code, o.vaccine_code,
                                          o.dose_number, o.vaccinated_on);
    SELECT * INTO e FROM payment.eligibility_of(o.muni_code, o.institution_code, o.person_id,
                                                o.vaccine_code, o.vaccinated_on, p.contract_code);
    amt := CASE WHEN p.price_yen IS NULL THEN 0 ELSE greatest(p.price_yen - p.self_pay_yen, 0) END;
    IF e.eligibility = 'out_of_area' THEN
        st := 'returned';
        why := '住所地外接種: still no 集合契約 and no 依頼書 for this person';
    ELSIF p.price_yen IS NULL THEN
        st := 'returned';
        why := 'still no unit price (委託単価) for the product and dose on ' || o.vaccinated_on;
    END IF;
    IF st = 'returned' THEN amt := 0; END IF;
    INSERT INTO payment.claim_lines (batch_id, kind, record_id, record_version, record_status,
           person_id, muni_code, institution_code, pref_code, vaccinated_on, vaccine_code,
           dose_number, basis, contract_code, price_yen, self_pay_yen, claim_yen, eligibility,
           referral_id, status, return_reason, reclaim_of)
    VALUES (payment.batch_for(b.org_id, o.institution_code, o.pref_code,
                              payment.claim_month_for(o.institution_code,
                                                      payment.open_month(close_day))),
            'claim', o.record_id, o.record_version, o.record_status, o.person_id, o.muni_code,
            o.institution_code, o.pref_code, o.vaccinated_on, o.vaccine_code, o.dose_number,
            p.basis, p.contract_code, p.price_yen, p.self_pay_yen, amt, e.eligibility,
            e.referral_id, st, why, o.id)
    RETURNING id INTO nid;
    RETURN nid;
END
$$;
