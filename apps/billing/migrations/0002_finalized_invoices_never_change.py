"""The database itself refuses any change to a finalized invoice or its lines.

- an invoice row: once its state is finalized, no UPDATE or DELETE passes; the
  one update allowed into that state (draft -> finalized) must carry a total
  equal to the sum of its lines;
- a line: no INSERT, UPDATE or DELETE on an invoice that is finalized. The
  invoice row is read FOR SHARE, so a line written while the invoice is being
  finalized waits for that to commit, then is refused.
"""

from django.db import migrations

GUARD = """
CREATE FUNCTION billing_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'finalized' THEN
        RAISE EXCEPTION 'invoice % is finalized and cannot change', OLD.number
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NEW.state = 'finalized' AND NEW.total IS DISTINCT FROM
       (SELECT COALESCE(sum(amount), 0) FROM billing_invoiceline WHERE invoice_id = NEW.id) THEN
        RAISE EXCEPTION 'invoice % total % is not the sum of its lines', NEW.id, NEW.total
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER billing_invoice_guard BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();

CREATE FUNCTION billing_invoiceline_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND EXISTS (
        SELECT 1 FROM billing_invoice WHERE id = OLD.invoice_id AND state = 'finalized' FOR SHARE
    ) THEN
        RAISE EXCEPTION 'lines of finalized invoice % cannot change', OLD.invoice_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP <> 'DELETE' AND EXISTS (
        SELECT 1 FROM billing_invoice WHERE id = NEW.invoice_id AND state = 'finalized' FOR SHARE
    ) THEN
        RAISE EXCEPTION 'finalized invoice % cannot get new lines', NEW.invoice_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER billing_invoiceline_guard BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_guard();
"""

DROP = """
DROP TRIGGER billing_invoiceline_guard ON billing_invoiceline;
DROP FUNCTION billing_invoiceline_guard();
DROP TRIGGER billing_invoice_guard ON billing_invoice;
DROP FUNCTION billing_invoice_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(GUARD, DROP)]
