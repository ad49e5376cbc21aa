package fhir

// Placeholders until the definitions are generated.

func isResourceType(t string) bool                            { return t == "Patient" }
func resourceTypes() []string                                 { return []string{"Patient"} }
func validate(resource map[string]any, strict bool) []Issue   { return nil }
func searchParams(resourceType string) map[string]SearchParam { return nil }
func extractIndex(resource map[string]any) []IndexValue       { return nil }
func references(resource map[string]any) []Reference          { return nil }
func isSystemType(resourceType string) bool                   { return false }
func systemIndex(resourceType string) []SystemEntry           { return nil }
func systemResource(resourceType, id string) ([]byte, bool)   { return nil, false }
