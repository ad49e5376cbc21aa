package fhir

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"sort"
	"sync"
)

//go:embed data/system.ndjson.gz
var systemGz []byte

// systemTypes are the resource types shared read-only by every project.
var systemTypes = map[string]bool{"StructureDefinition": true, "ValueSet": true, "CodeSystem": true, "SearchParameter": true}

type systemStore struct {
	index map[string][]SystemEntry     // by type, sorted by id
	json  map[string]map[string][]byte // type -> id -> resource
}

var (
	systemOnce sync.Once
	systemData *systemStore
)

func system() *systemStore {
	systemOnce.Do(func() {
		s, err := loadSystem(systemGz)
		if err != nil {
			panic("fhir: embedded system resources are corrupt: " + err.Error())
		}
		systemData = s
	})
	return systemData
}

func loadSystem(gz []byte) (*systemStore, error) {
	raw, err := gunzip(gz)
	if err != nil {
		return nil, err
	}
	s := &systemStore{index: map[string][]SystemEntry{}, json: map[string]map[string][]byte{}}
	for line := range bytes.Lines(raw) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var e SystemEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, err
		}
		if s.json[e.ResourceType] == nil {
			s.json[e.ResourceType] = map[string][]byte{}
		}
		s.json[e.ResourceType][e.ID] = line
		s.index[e.ResourceType] = append(s.index[e.ResourceType], e)
	}
	for _, entries := range s.index {
		sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
	}
	return s, nil
}

func isSystemType(resourceType string) bool { return systemTypes[resourceType] }

func systemIndex(resourceType string) []SystemEntry {
	if !systemTypes[resourceType] {
		return nil
	}
	return append([]SystemEntry(nil), system().index[resourceType]...)
}

func systemResource(resourceType, id string) ([]byte, bool) {
	if !systemTypes[resourceType] {
		return nil, false
	}
	b, ok := system().json[resourceType][id]
	if !ok {
		return nil, false
	}
	return bytes.Clone(b), true
}
