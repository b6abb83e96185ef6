-- Inspection templates (检查表) and what an inspection found item by item.
-- The built-in "重大事故隐患判定" template is generated from the shipped
-- 121号 criteria and not stored, so its items have no row here. Keep this
-- file and its twin in step.

CREATE TABLE checklists (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE checklist_items (
    id TEXT PRIMARY KEY NOT NULL,
    checklist_id TEXT NOT NULL REFERENCES checklists (id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    basis TEXT,
    specialty TEXT,
    UNIQUE (checklist_id, position)
);

-- One result per item of the one template an inspection runs; a failed
-- item names the hazard it created.
CREATE TABLE checklist_results (
    inspection_id TEXT NOT NULL REFERENCES inspections (id),
    item_id TEXT NOT NULL,
    checklist_id TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'not_applicable')),
    note TEXT,
    hazard_id TEXT REFERENCES hazards (id),
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (inspection_id, item_id)
);
