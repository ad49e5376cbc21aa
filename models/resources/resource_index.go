package resources

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"enclave/models/fhir"
	"enclave/models/kit"

	"gorm.io/gorm"
)

// indexBatch bounds the rows of one multi-row INSERT, far below the bind
// parameter limits of kit.SQLite and PostgreSQL.
const indexBatch = 200

// indexTables lists the search index tables (uri values live with the
// strings, as written); every row carries project_id,
// resource_type, resource_id, param and updated_us (the version's
// lastUpdated in microseconds, the order searches return).
var indexTables = []string{"resource_strings", "resource_tokens", "resource_dates", "resource_references", "resource_quantities", "resource_composites"}

// indexColumns are each index table's own columns, after the common ones.
var indexColumns = map[string]string{
	"resource_strings":    "value, raw",
	"resource_tokens":     "system, code, text",
	"resource_dates":      "start_us, end_us",
	"resource_references": "ref_type, ref_id, ref",
	"resource_quantities": "value, low, high, system, code, unit",
	"resource_composites": "system, code, value, low, high, v_system, v_code, v_text, v_raw, unit, start_us, end_us",
}

// indexRows are one resource's search index values, by table: each row is
// the parameter followed by the table's own columns. _id is not indexed:
// searches use the id column.
func indexRows(res map[string]any) map[string][][]any {
	rows := map[string][][]any{}
	for _, v := range fhir.ExtractIndex(res) {
		if v.Param == "_id" {
			continue
		}
		switch v.Type {
		case fhir.TypeString, fhir.TypeURI:
			rows["resource_strings"] = append(rows["resource_strings"], []any{v.Param, indexKey(v.Text), v.Raw})
		case fhir.TypeToken:
			rows["resource_tokens"] = append(rows["resource_tokens"], []any{v.Param, v.System, indexKey(v.Code), v.Text})
		case fhir.TypeDate:
			rows["resource_dates"] = append(rows["resource_dates"], []any{v.Param, v.Start.UnixMicro(), v.End.UnixMicro()})
		case fhir.TypeReference:
			rows["resource_references"] = append(rows["resource_references"], []any{v.Param, v.RefType, indexKey(v.RefID), v.Ref})
		case fhir.TypeNumber, fhir.TypeQuantity:
			rows["resource_quantities"] = append(rows["resource_quantities"],
				[]any{v.Param, v.Number, v.Low, v.High, indexKey(v.System), indexKey(v.Code), indexKey(v.Unit)})
		}
	}
	for _, c := range fhir.ExtractComposites(res) {
		rows["resource_composites"] = append(rows["resource_composites"], compositeRow(c))
	}
	return rows
}

// compositeRow is the resource_composites row of one composite value,
// after the common columns: the first component's token, then the second
// component in the columns of its type (the others empty).
func compositeRow(c fhir.CompositeValue) []any {
	v := c.Value
	var start, end int64
	if v.Type == fhir.TypeDate {
		start, end = v.Start.UnixMicro(), v.End.UnixMicro()
	}
	text, code := indexKey(v.Text), indexKey(v.Code)
	if v.Type == fhir.TypeToken {
		text = "" // a token's display is not searched in a composite
	}
	return []any{c.Param, c.System, indexKey(c.Code), finite(v.Number), finite(v.Low), finite(v.High),
		indexKey(v.System), code, text, v.Raw, indexKey(v.Unit), start, end}
}

// MaxIndexRows bounds the search index values of one resource: a resource
// with more (200,000 identifiers, say) is refused rather than let one write
// hold the database for seconds.
const MaxIndexRows = 10_000

// checkIndexSize refuses a resource whose search values exceed MaxIndexRows.
func checkIndexSize(rows map[string][][]any) error {
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	if n > MaxIndexRows {
		return invalidResource("too-costly", "", "The resource has %d searchable values; at most %d are accepted", n, MaxIndexRows)
	}
	return nil
}

// indexKeyBytes bounds the indexed form of a string value, code or
// reference id: PostgreSQL cannot put a row of more than about 2,700 bytes
// in a B-tree index, and long strings are legitimate FHIR. Searches cut
// their values the same way, so a long value is still found by its first
// indexKeyBytes bytes (and :exact still compares the whole value as
// written).
const indexKeyBytes = 1000

// indexKey cuts s to at most indexKeyBytes bytes, at a character boundary.
func indexKey(s string) string {
	if len(s) <= indexKeyBytes {
		return s
	}
	cut := indexKeyBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// writeIndex replaces the search index rows of one resource with the values
// found in res (res nil clears them), stamped with the version's time at. A
// fresh resource has no rows yet, so nothing is deleted first.
func (t Store) writeIndex(tx *gorm.DB, resourceType, id string, res map[string]any, at time.Time, fresh bool) error {
	if !fresh {
		for _, table := range indexTables {
			// By the owner index (see ownedBy and sqlBuf.owned).
			from := table
			if kit.DialectOf(tx) != kit.Postgres {
				from += " INDEXED BY " + table + "_owner"
			}
			if err := tx.Exec(`DELETE FROM `+from+` WHERE resource_id = ? AND project_id = ? AND (resource_type || '') = ?`,
				id, t.projectID, resourceType).Error; err != nil {
				return err
			}
		}
	}
	if res == nil {
		return nil
	}
	rows := indexRows(res)
	if err := checkIndexSize(rows); err != nil {
		return err
	}
	us := at.UnixMicro()
	for _, table := range indexTables {
		all := rows[table]
		for len(all) > 0 {
			n := min(len(all), indexBatch)
			batch := make([][]any, n)
			for i, r := range all[:n] {
				batch[i] = append([]any{t.projectID, resourceType, id, us}, r...)
			}
			if err := insertRows(tx, table, "project_id, resource_type, resource_id, updated_us, param, "+indexColumns[table], batch); err != nil {
				return err
			}
			all = all[n:]
		}
	}
	return nil
}

func insertRows(tx *gorm.DB, table, columns string, rows [][]any) error {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(rows[0])), ", ") + ")"
	var sql strings.Builder
	sql.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
	args := make([]any, 0, len(rows)*len(rows[0]))
	for i, r := range rows {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString(one)
		args = append(args, r...)
	}
	return tx.Exec(sql.String(), args...).Error
}

// createSQL stores a new resource in one PostgreSQL statement: its current
// row, its first history row and its index rows, the index values passed as
// one array per column. Its text never changes, so every connection prepares
// it once.
const createSQL = `WITH cur AS (
	INSERT INTO resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
	VALUES ($1, $2, $3, 1, $4, FALSE, $5)
), hist AS (
	INSERT INTO resource_history (project_id, resource_type, id, version_id, last_updated, deleted, content)
	VALUES ($1, $2, $3, 1, $4, FALSE, $5)
), strs AS (
	INSERT INTO resource_strings (project_id, resource_type, resource_id, updated_us, param, value, raw)
	SELECT $1, $2, $3, $6, u.p, u.v, u.w FROM unnest($7::text[], $8::text[], $9::text[]) AS u (p, v, w)
), toks AS (
	INSERT INTO resource_tokens (project_id, resource_type, resource_id, updated_us, param, system, code, text)
	SELECT $1, $2, $3, $6, u.p, u.s, u.c, u.t FROM unnest($10::text[], $11::text[], $12::text[], $13::text[]) AS u (p, s, c, t)
), dates AS (
	INSERT INTO resource_dates (project_id, resource_type, resource_id, updated_us, param, start_us, end_us)
	SELECT $1, $2, $3, $6, u.p, u.a, u.b FROM unnest($14::text[], $15::bigint[], $16::bigint[]) AS u (p, a, b)
)
INSERT INTO resource_references (project_id, resource_type, resource_id, updated_us, param, ref_type, ref_id, ref)
SELECT $1, $2, $3, $6, u.p, u.t, u.i, u.r FROM unnest($17::text[], $18::text[], $19::text[], $20::text[]) AS u (p, t, i, r)`

// createQuantitiesSQL is createSQL for a resource with number or quantity
// values, which it also stores. Most resources have none, and their
// statement stays without that table: with it, every create measured
// slower (BenchmarkFHIR/postgres/create).
var createQuantitiesSQL = `WITH quants AS (
	INSERT INTO resource_quantities (project_id, resource_type, resource_id, updated_us, param, value, low, high, system, code, unit)
	SELECT $1, $2, $3, $6, u.p, u.v, u.l, u.h, u.s, u.c, u.u
	FROM unnest($21::text[], $22::float8[], $23::float8[], $24::float8[], $25::text[], $26::text[], $27::text[]) AS u (p, v, l, h, s, c, u)
), ` + strings.TrimPrefix(createSQL, "WITH ")

// createArgs are the statement that creates resource r with its index rows
// (createSQL or createQuantitiesSQL), and its arguments.
func (t Store) createArgs(r Resource, rows map[string][][]any) (string, []any) {
	args := []any{t.projectID, r.Type, r.ID, r.LastUpdated, string(r.JSON), r.LastUpdated.UnixMicro()}
	// texts adds one array per column of a table whose columns are text.
	texts := func(table string, width int) {
		cols := make([][]string, width)
		for c := range cols {
			cols[c] = []string{}
		}
		for _, row := range rows[table] {
			for c := range cols {
				cols[c] = append(cols[c], row[c].(string))
			}
		}
		for _, c := range cols {
			args = append(args, c)
		}
	}
	texts("resource_strings", 3)
	texts("resource_tokens", 4)
	params, starts, ends := []string{}, []int64{}, []int64{}
	for _, row := range rows["resource_dates"] {
		params = append(params, row[0].(string))
		starts = append(starts, row[1].(int64))
		ends = append(ends, row[2].(int64))
	}
	args = append(args, params, starts, ends)
	texts("resource_references", 4)
	sql := createSQL
	if len(rows["resource_quantities"]) > 0 {
		sql = createQuantitiesSQL
		args = append(args, quantityColumns(rows["resource_quantities"], 0)...)
	}
	if len(rows["resource_composites"]) == 0 {
		return sql, args
	}
	return withComposites(sql, "$2, $3, $6", false, len(args)+1), append(args, compositeJSON(rows["resource_composites"], 0))
}

// withComposites adds to a create statement the insertion of composite
// rows passed as one JSON array (parameter n, see compositeJSON); owner
// gives each row's resource_type, resource_id and updated_us (from the
// record's t and i when perRow). Only resources with composite values use
// it, so a Patient's create stays as it was.
func withComposites(sql, owner string, perRow bool, n int) string {
	record := "p text, system text, code text, value float8, low float8, high float8, v_system text, v_code text, v_text text, v_raw text, unit text, start_us bigint, end_us bigint"
	if perRow {
		record = "t text, i text, " + record
	}
	return fmt.Sprintf(`WITH comps AS (
	INSERT INTO resource_composites (project_id, resource_type, resource_id, updated_us, param, %s)
	SELECT $1, %s, u.p, u.system, u.code, u.value, u.low, u.high, u.v_system, u.v_code, u.v_text, u.v_raw, u.unit, u.start_us, u.end_us
	FROM jsonb_to_recordset($%d::jsonb) AS u (%s)
), `, indexColumns["resource_composites"], owner, n, record) + strings.TrimPrefix(sql, "WITH ")
}

// finite is f with infinities replaced by the largest float64 of their sign
// (a precision range's end may be one), which JSON can carry.
func finite(f float64) float64 {
	return max(-math.MaxFloat64, min(f, math.MaxFloat64))
}

// compositeNames are the JSON names of a composite row's columns after the
// param, in compositeRow's order (the record of withComposites).
var compositeNames = []string{"system", "code", "value", "low", "high", "v_system", "v_code", "v_text", "v_raw", "unit", "start_us", "end_us"}

// compositeJSON is composite rows (after col leading columns, the owner's
// type and id when col is 2) as the JSON array withComposites reads.
func compositeJSON(rows [][]any, col int) string {
	out := make([]map[string]any, 0, len(rows))
	for _, row := range rows {
		m := map[string]any{"p": row[col]}
		if col == 2 {
			m["t"], m["i"] = row[0], row[1]
		}
		for i, name := range compositeNames {
			m[name] = row[col+1+i]
		}
		out = append(out, m)
	}
	b, err := json.Marshal(out)
	if err != nil {
		// Only strings, int64 and finite float64 (fhir.NumberRange) go in.
		panic("resources: composite rows: " + err.Error())
	}
	return string(b)
}

// quantityColumns are the arrays of resource_quantities rows' columns from
// col on (each row: param, value, low, high, system, code, unit after col
// leading columns): text, then three float8, then text.
func quantityColumns(rows [][]any, col int) []any {
	var out []any
	for c := range col + 7 {
		if c >= col+1 && c <= col+3 {
			vals := make([]float64, 0, len(rows))
			for _, row := range rows {
				vals = append(vals, row[c].(float64))
			}
			out = append(out, vals)
			continue
		}
		vals := make([]string, 0, len(rows))
		for _, row := range rows {
			vals = append(vals, row[c].(string))
		}
		out = append(out, vals)
	}
	return out
}
