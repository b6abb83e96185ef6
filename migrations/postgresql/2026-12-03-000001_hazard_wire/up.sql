-- Each hazard's rendering: the JSON of every field the API shows that
-- depends on the row alone, written by the service with every insert and
-- update of the row (`db::hazards::rendered`). Rows from before this
-- migration are rendered by the service when it starts; until then, and
-- for any row without one, the row is read whole.
ALTER TABLE hazards ADD COLUMN wire TEXT;

-- An update that changes a column the rendering shows but leaves the
-- rendering as it was (a row edited by hand) drops it: the row is read
-- whole until it is rendered again, never shown as it was.
CREATE FUNCTION hazards_wire_follows_the_row() RETURNS trigger AS $$
BEGIN
    IF NEW.wire IS NOT NULL AND NEW.wire IS NOT DISTINCT FROM OLD.wire AND
    (NEW.id, NEW.number, NEW.enterprise_id, NEW.source,
     NEW.checking_enterprise_id, NEW.inspection_id, NEW.title,
     NEW.description, NEW.location, NEW.category, NEW.specialty, NEW.level,
     NEW.major_basis_code, NEW.listing_ordering_body,
     NEW.listing_listed_on, NEW.found_at, NEW.found_by, NEW.deadline,
     NEW.state, NEW.version, NEW.plan_measures,
     NEW.plan_responsible_person, NEW.plan_funds_fen, NEW.plan_contingency,
     NEW.planned_at, NEW.planned_by, NEW.submitted_at, NEW.closed_at,
     NEW.voided_at, NEW.created_at, NEW.updated_at, NEW.evidence_before,
     NEW.evidence_after)
        IS DISTINCT FROM
    (OLD.id, OLD.number, OLD.enterprise_id, OLD.source,
     OLD.checking_enterprise_id, OLD.inspection_id, OLD.title,
     OLD.description, OLD.location, OLD.category, OLD.specialty, OLD.level,
     OLD.major_basis_code, OLD.listing_ordering_body,
     OLD.listing_listed_on, OLD.found_at, OLD.found_by, OLD.deadline,
     OLD.state, OLD.version, OLD.plan_measures,
     OLD.plan_responsible_person, OLD.plan_funds_fen, OLD.plan_contingency,
     OLD.planned_at, OLD.planned_by, OLD.submitted_at, OLD.closed_at,
     OLD.voided_at, OLD.created_at, OLD.updated_at, OLD.evidence_before,
     OLD.evidence_after)
    THEN
        NEW.wire := NULL;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER hazards_wire_follows_the_row BEFORE UPDATE ON hazards
FOR EACH ROW EXECUTE FUNCTION hazards_wire_follows_the_row();
