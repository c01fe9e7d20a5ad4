-- 001_notices.sql - notices (H-11): the current text, every version, and who has read what.
--
-- Run by ss_migrate() as sesshu_notice (owner of schema notice), in one transaction.
-- The audience is four optional lists; an empty list means "everyone" on that axis, and a
-- reader must match every non-empty list. Organisations and users are account's: their ids are
-- stored as given (no foreign keys across services).

CREATE TABLE notice.notices (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    author_org_id   uuid NOT NULL,
    author_org_type text NOT NULL,
    author_user_id  text NOT NULL,
    version         integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    importance      text NOT NULL DEFAULT 'info' CHECK (importance IN ('info', 'important', 'urgent')),
    publish_from    timestamptz NOT NULL DEFAULT now(),
    publish_until   timestamptz,
    aud_org_types   text[] NOT NULL DEFAULT '{}',
    aud_prefs       text[] NOT NULL DEFAULT '{}',
    aud_orgs        uuid[] NOT NULL DEFAULT '{}',
    aud_roles       text[] NOT NULL DEFAULT '{}',
    withdrawn_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL,
    CONSTRAINT notices_window CHECK (publish_until IS NULL OR publish_until > publish_from)
);
CREATE INDEX notices_author ON notice.notices (author_org_id, created_at DESC, id DESC);
CREATE INDEX notices_live ON notice.notices (publish_from DESC, id DESC) WHERE withdrawn_at IS NULL;

-- One row per version, the first included: the history authors see.
CREATE TABLE notice.notice_versions (
    notice_id     uuid NOT NULL REFERENCES notice.notices (id),
    version       integer NOT NULL,
    title         text NOT NULL,
    body          text NOT NULL,
    importance    text NOT NULL,
    publish_from  timestamptz NOT NULL,
    publish_until timestamptz,
    aud_org_types text[] NOT NULL,
    aud_prefs     text[] NOT NULL,
    aud_orgs      uuid[] NOT NULL,
    aud_roles     text[] NOT NULL,
    edited_by     text NOT NULL,
    edited_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notice_id, version)
);

-- Read marks: one per (notice, user); the first read counts.
CREATE TABLE notice.reads (
    notice_id uuid NOT NULL REFERENCES notice.notices (id),
    user_id   text NOT NULL,
    read_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notice_id, user_id)
);
CREATE INDEX reads_user ON notice.reads (user_id);
