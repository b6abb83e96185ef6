-- 16号令 Art. 14–18 records of a major hazard. Keep this file and its twin
-- in step.

-- The Art. 14 report contents, the Art. 15 plan parts the 五到位 fields do
-- not hold, and the Art. 16 production stop.
CREATE TABLE hazard_dossiers (
    hazard_id TEXT PRIMARY KEY NOT NULL REFERENCES hazards (id),
    state_and_cause TEXT NOT NULL,
    danger_and_difficulty TEXT NOT NULL,
    goals_and_tasks TEXT,
    materials TEXT,
    responsible_body TEXT,
    requirements TEXT,
    stop_scope TEXT NOT NULL DEFAULT 'none' CHECK (stop_scope IN ('none', 'partial', 'full')),
    stop_from DATE,
    stop_until DATE,
    updated_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);

-- 挂牌督办 (Art. 18): the listing, then the assessment, the application to
-- resume, and the authority's approval (摘牌).
CREATE TABLE hazard_listings (
    hazard_id TEXT PRIMARY KEY NOT NULL REFERENCES hazards (id),
    authority_level TEXT CHECK (authority_level IN ('province', 'city', 'county', 'park')),
    authority_name TEXT NOT NULL,
    document_number TEXT,
    listed_on DATE NOT NULL,
    due_on DATE,
    responsible_leader TEXT,
    listed_by TEXT NOT NULL REFERENCES users (id),
    assessor TEXT,
    assessor_kind TEXT CHECK (assessor_kind IN ('enterprise_experts', 'assessment_body')),
    assessment_conclusion TEXT,
    assessment_attachment_id TEXT REFERENCES attachments (id),
    assessed_on DATE,
    assessed_by TEXT REFERENCES users (id),
    resumption_applicant TEXT,
    resumption_applied_on DATE,
    resumption_note TEXT,
    resumption_by TEXT REFERENCES users (id),
    delisting_document_number TEXT,
    delisted_on DATE,
    delisted_by TEXT REFERENCES users (id)
);
CREATE INDEX hazard_listings_due ON hazard_listings (due_on);

-- A listing given when the hazard was reported is the same listing.
INSERT INTO hazard_listings (hazard_id, authority_name, listed_on, listed_by)
SELECT id, listing_ordering_body, COALESCE(listing_listed_on, CAST(found_at AS DATE)), found_by
FROM hazards WHERE listing_ordering_body IS NOT NULL;
