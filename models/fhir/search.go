package fhir

func (d *definitions) indexSearchParams(f defsFile) {}
func searchParams(resourceType string) map[string]SearchParam { return nil }
func extractIndex(resource map[string]any) []IndexValue { return nil }
func references(resource map[string]any) []Reference  { return nil }
func isSystemType(resourceType string) bool           { return false }
func systemIndex(resourceType string) []SystemEntry   { return nil }
func systemResource(resourceType, id string) ([]byte, bool) { return nil, false }
