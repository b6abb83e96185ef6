DROP TRIGGER hazards_wire_follows_the_row ON hazards;
DROP FUNCTION hazards_wire_follows_the_row();
ALTER TABLE hazards DROP COLUMN wire;
