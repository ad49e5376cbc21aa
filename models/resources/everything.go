package resources

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"enclave/models/fhir"
	"enclave/models/kit"

	"gorm.io/gorm"
)

// EverythingQuery asks for a page of Patient/$everything.
type EverythingQuery struct {
	PatientID string
	// Types, when set, keeps only resources of these types (_type).
	Types []string
	// Since, when set, keeps only resources last updated at or after it
	// (_since).
	Since         time.Time
	Count, Offset int
}

// EverythingResult is one page of a patient's record and the size of the
// whole.
type EverythingResult struct {
	Resources []Resource
	// Included says, for each of Resources, that it is listed because the
	// record references it rather than as the patient or its compartment.
	Included []bool
	Total    int
}

// MaxEverything bounds the resources of one patient's record that
// $everything lists: a larger record is refused rather than let one request
// hold the database (export the project instead).
const MaxEverything = 50_000

// key names one resource.
type key struct{ typ, id string }

// PatientEverything is FHIR's Patient/$everything: the patient, every
// resource of the project in the patient's compartment (those with a
// reference to the patient among their search parameters, as the Patient
// CompartmentDefinition's parameters all are), and the resources those
// reference (practitioners, organizations, encounters, ...), one level
// deep. The store's access policy applies to each of them as to a search:
// types it does not grant are left out, as are resources outside its
// criteria, and hidden fields are removed. The patient comes first, then
// the compartment, then what it references, each part by type and id; q
// picks a page of that list.
//
// A patient the store cannot read is kit.ErrNotFound (or kit.ErrForbidden,
// as ReadResource says).
func (t Store) PatientEverything(ctx context.Context, q EverythingQuery) (EverythingResult, error) {
	if _, err := t.ReadResource(ctx, "Patient", q.PatientID); err != nil {
		return EverythingResult{}, err
	}
	var keys []key
	var referenced map[key]bool
	err := t.tenantTx(ctx, false, func(tx *gorm.DB) error {
		var err error
		keys, referenced, err = t.everythingKeys(tx, q)
		return err
	})
	if err != nil {
		return EverythingResult{}, err
	}
	if len(keys) > MaxEverything {
		return EverythingResult{}, badQuery("This patient's record holds more than %d resources, too many for $everything: "+
			"narrow it with _type or _since", MaxEverything)
	}
	keys, err = t.visibleKeys(ctx, keys)
	if err != nil {
		return EverythingResult{}, err
	}
	out := EverythingResult{Total: len(keys)}
	if q.Offset >= len(keys) {
		return out, nil
	}
	page := keys[q.Offset:]
	if q.Count < len(page) {
		page = page[:q.Count]
	}
	if out.Resources, err = t.loadKeys(ctx, page); err != nil {
		return EverythingResult{}, err
	}
	for _, r := range out.Resources {
		out.Included = append(out.Included, referenced[key{r.Type, r.ID}])
	}
	return out, nil
}

// everythingKeys lists the live resources of the patient's record that q
// keeps, in the record's order, before the access policy's criteria, and
// which of them are there because the record references them.
func (t Store) everythingKeys(tx *gorm.DB, q EverythingQuery) ([]key, map[key]bool, error) {
	var compartment []struct{ ResourceType, ResourceID string }
	err := tx.Raw(`SELECT DISTINCT resource_type, resource_id FROM resource_references
		WHERE project_id = ? AND ref_type = 'Patient' AND ref_id = ?`, t.projectID, q.PatientID).Scan(&compartment).Error
	if err != nil {
		return nil, nil, err
	}
	seen := map[key]bool{{"Patient", q.PatientID}: true}
	parts := [3][]key{{{"Patient", q.PatientID}}}
	add := func(part int, k key) {
		if !seen[k] && fhir.IsResourceType(k.typ) && !fhir.IsSystemType(k.typ) {
			seen[k] = true
			parts[part] = append(parts[part], k)
		}
	}
	for _, r := range compartment {
		add(1, key{r.ResourceType, r.ResourceID})
	}
	// What the patient and its compartment reference, by the owner index
	// of each type's rows.
	from := "resource_references"
	if kit.DialectOf(tx) != kit.Postgres {
		from += " INDEXED BY resource_references_owner"
	}
	for typ, chunks := range byType(slices.Concat(parts[0], parts[1])) {
		for _, ids := range chunks {
			var referenced []struct{ RefType, RefID string }
			err := tx.Raw(`SELECT DISTINCT ref_type, ref_id FROM `+from+`
				WHERE project_id = ? AND resource_type = ? AND resource_id IN ? AND ref_type <> '' AND ref_id <> ''`,
				t.projectID, typ, ids).Scan(&referenced).Error
			if err != nil {
				return nil, nil, err
			}
			for _, r := range referenced {
				add(2, key{r.RefType, r.RefID})
			}
		}
	}
	live, err := t.liveSince(tx, slices.Concat(parts[:]...), q.Since)
	if err != nil {
		return nil, nil, err
	}
	var out []key
	referenced := map[key]bool{}
	for i, part := range parts {
		if i > 0 {
			slices.SortFunc(part, func(a, b key) int { return cmp.Or(cmp.Compare(a.typ, b.typ), cmp.Compare(a.id, b.id)) })
		}
		for _, k := range part {
			if live[k] && (len(q.Types) == 0 || slices.Contains(q.Types, k.typ)) {
				out = append(out, k)
				referenced[k] = i == 2
			}
		}
	}
	return out, referenced, nil
}

// keyChunk bounds the ids of one statement.
const keyChunk = 500

// byType groups keys' ids by type, in chunks of at most keyChunk.
func byType(keys []key) map[string][][]string {
	out := map[string][][]string{}
	for _, k := range keys {
		chunks := out[k.typ]
		if len(chunks) == 0 || len(chunks[len(chunks)-1]) == keyChunk {
			chunks = append(chunks, nil)
		}
		chunks[len(chunks)-1] = append(chunks[len(chunks)-1], k.id)
		out[k.typ] = chunks
	}
	return out
}

// liveSince tells which of keys are live resources of the project last
// updated at or after since (any time, when since is zero).
func (t Store) liveSince(tx *gorm.DB, keys []key, since time.Time) (map[key]bool, error) {
	live := map[key]bool{}
	for typ, chunks := range byType(keys) {
		for _, ids := range chunks {
			var rows []struct {
				ID          string
				LastUpdated time.Time
			}
			err := tx.Raw(`SELECT id, last_updated FROM resources WHERE project_id = ? AND resource_type = ? AND id IN ? AND deleted = FALSE`,
				t.projectID, typ, ids).Scan(&rows).Error
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if since.IsZero() || !r.LastUpdated.Before(since) {
					live[key{typ, r.ID}] = true
				}
			}
		}
	}
	return live, nil
}

// visibleKeys keeps the keys the store's access policy lets it read: of
// the types it grants, and of those its criteria limit, the matches.
func (t Store) visibleKeys(ctx context.Context, keys []key) ([]key, error) {
	var limited []key
	for _, k := range keys {
		if t.CanRead(k.typ) && t.hasCriteria(k.typ) {
			limited = append(limited, k)
		}
	}
	matched, err := t.searchKeys(ctx, limited)
	if err != nil {
		return nil, err
	}
	out := keys[:0:0]
	for _, k := range keys {
		if _, ok := matched[k]; t.CanRead(k.typ) && (ok || !t.hasCriteria(k.typ)) {
			out = append(out, k)
		}
	}
	return out, nil
}

// searchKeys reads the resources keys name as a search does: live ones
// only, within the access policy, hidden fields removed.
func (t Store) searchKeys(ctx context.Context, keys []key) (map[key]Resource, error) {
	found := map[key]Resource{}
	for typ, chunks := range byType(keys) {
		for _, ids := range chunks {
			rs, err := t.searchIDs(ctx, typ, ids)
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				found[key{typ, r.ID}] = r
			}
		}
	}
	return found, nil
}

// searchIDs reads the resources of one type with these ids (at most
// keyChunk) as searchKeys does.
func (t Store) searchIDs(ctx context.Context, typ string, ids []string) ([]Resource, error) {
	q, err := ParseSearch(typ, url.Values{"_id": {strings.Join(ids, ",")}}, false)
	if err != nil {
		return nil, err
	}
	q.Count = len(ids)
	res, err := t.Search(ctx, q)
	return res.Resources, err
}

// loadKeys reads the resources keys name, in that order; one that has gone
// since the keys were listed is left out.
func (t Store) loadKeys(ctx context.Context, keys []key) ([]Resource, error) {
	found, err := t.searchKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]Resource, 0, len(keys))
	for _, k := range keys {
		if r, ok := found[k]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}
