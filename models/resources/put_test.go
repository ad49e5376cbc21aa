package resources_test

import (
	"errors"
	"sync"
	"testing"

	"enclave/models"
	"enclave/models/kit"
	"enclave/models/testdb"
)

// TestPutResourceRace: several requests creating the same id at once make
// one resource; each of the others updates it or hears of the clash
// (kit.ErrConflict), never a database error.
func TestPutResourceRace(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "ada@example.org")
			const n = 6
			var wg sync.WaitGroup
			errs := make([]error, n)
			created := make([]bool, n)
			for i := range n {
				wg.Go(func() {
					_, created[i], errs[i] = ten.PutResource(ctx, "Patient", "same-id", []byte(`{"resourceType":"Patient","id":"same-id"}`), "")
				})
			}
			wg.Wait()
			made, fine := 0, 0
			for i, err := range errs {
				switch {
				case err == nil && created[i]:
					made++
					fine++
				case err == nil, errors.Is(err, kit.ErrConflict):
					fine++
				default:
					t.Errorf("PUT %d: %v", i, err)
				}
			}
			if made != 1 || fine != n {
				t.Errorf("%d of %d PUTs created the resource, %d ended well; want exactly one creation", made, n, fine)
			}
			r, err := ten.ReadResource(ctx, "Patient", "same-id")
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != "same-id" {
				t.Errorf("read %s", r.ID)
			}
		})
	}
}
