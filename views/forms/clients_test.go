package forms

import (
	"testing"
	"time"
)

func TestClientForm(t *testing.T) {
	f := Client{RedirectURIs: "https://a.example.org/cb\r\n\r\nhttps://b.example.org/cb"}
	if got := f.URIs(); len(got) != 3 || got[0] != "https://a.example.org/cb" || got[2] != "https://b.example.org/cb" {
		t.Errorf("URIs %q", got)
	}
	_ = f.TokenLifetime.UnmarshalParam("90")
	if f.Lifetime() != 90*time.Minute || f.Validate().Any() {
		t.Errorf("lifetime %v, errors %v", f.Lifetime(), f.Validate())
	}
	_ = f.TokenLifetime.UnmarshalParam("an hour")
	if f.Validate().Of("tokenLifetime") == "" || f.TokenLifetime.String() != "an hour" {
		t.Error("a lifetime that is not a number is not refused, or not kept")
	}
	_ = f.TokenLifetime.UnmarshalParam("")
	if f.Lifetime() != 0 {
		t.Errorf("an empty lifetime is %v, want 0 (the default)", f.Lifetime())
	}
}

func TestClientRotationForm(t *testing.T) {
	var f ClientRotation
	if got := f.GraceOr(24 * time.Hour); got != 24*time.Hour {
		t.Errorf("empty grace %v, want the default", got)
	}
	_ = f.Grace.UnmarshalParam("0")
	if got := f.GraceOr(24 * time.Hour); got != 0 {
		t.Errorf("grace 0 read as %v", got)
	}
	_ = f.Grace.UnmarshalParam("48")
	if got := f.GraceOr(24 * time.Hour); got != 48*time.Hour || f.Validate().Any() {
		t.Errorf("grace 48 read as %v", got)
	}
	_ = f.Grace.UnmarshalParam("two days")
	if f.Validate().Of("grace") == "" {
		t.Error("a grace that is not a number is not refused")
	}
}
