package testdb

import (
	"context"
	"encoding/json"
	"testing"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/projects"
	"enclave/models/resources"
)

// NewUser registers a verified-free account with email and a fixed password,
// "correct horse".
func NewUser(t testing.TB, sys models.System, email string) accounts.User {
	t.Helper()
	u, err := sys.CreateUser(context.Background(), accounts.NewUser{FirstName: "Ada", LastName: "Lovelace", Email: email, Password: "correct horse"})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// ProjectStore makes a user with a project and returns the project's store.
func ProjectStore(t testing.TB, sys models.System, email string) models.Tenant {
	t.Helper()
	u := NewUser(t, sys, email)
	p, err := sys.CreateProject(context.Background(), u.ID, projects.NewProject{Name: "Project of " + email})
	if err != nil {
		t.Fatal(err)
	}
	return sys.Tenant(p.ID)
}

// MustCreate stores the resource body (its resourceType read from it).
func MustCreate(t testing.TB, ten models.Tenant, body string) resources.Resource {
	t.Helper()
	var probe struct{ ResourceType string }
	if err := json.Unmarshal([]byte(body), &probe); err != nil {
		t.Fatalf("bad test body: %v", err)
	}
	r, err := ten.CreateResource(context.Background(), probe.ResourceType, []byte(body))
	if err != nil {
		t.Fatalf("create %s: %v", body, err)
	}
	return r
}
