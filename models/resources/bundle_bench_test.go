package resources_test

import (
	"fmt"
	"net/http"
	"testing"

	"enclave/models"
	"enclave/models/testdb"
)

// The transaction targets (README): on PostgreSQL, 1,000 new Patients in
// one transaction within 0.5 s, a Synthea patient file (about 300 entries)
// within 0.2 s. Each iteration posts a new bundle to the same project, so
// the project grows as it would.

func BenchmarkTransaction1000Patients(b *testing.B) {
	benchTransaction(b, func(int) []byte { return testdb.PatientsBundle(1000) })
}

func BenchmarkTransactionSynthea(b *testing.B) {
	benchTransaction(b, func(i int) []byte { return testdb.SyntheaBundle(i, 25) })
}

// benchRuns numbers the runs of benchTransaction.
var benchRuns int

func benchTransaction(b *testing.B, bundle func(i int) []byte) {
	for _, db := range testdb.All(b) {
		b.Run(db.Name, func(b *testing.B) {
			// A project of its own each run (-count reuses the database).
			benchRuns++
			ten := testdb.ProjectStore(b, models.NewSystem(db.DB), fmt.Sprintf("bench%d@example.org", benchRuns))
			i := 0
			for b.Loop() {
				b.StopTimer()
				body := bundle(i)
				i++
				b.StartTimer()
				res, err := ten.ProcessBundle(ctx, body)
				if err != nil {
					b.Fatal(err)
				}
				if s := res.Entries[len(res.Entries)-1].Status; s != http.StatusCreated {
					b.Fatalf("last entry: %d", s)
				}
			}
		})
	}
}
