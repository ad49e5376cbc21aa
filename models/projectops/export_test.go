package projectops

// SetHook makes fn hear of (and possibly fail) each step of a clone or an
// expunge until the returned function is called.
func SetHook(fn func(step string) error) (restore func()) {
	return steps.Hook(fn)
}

// RewriteForTest exposes rewriteResource to the tests.
func RewriteForTest(content, typ, oldID, newID, project string, ids map[string]string) (string, error) {
	out, err := rewriteResource([]byte(content), typ, oldID, newID,
		stamp{project: project, versionID: "1", lastUpdated: "2026-01-02T03:04:05.000006Z"}, ids)
	return string(out), err
}

// RewriteCriteriaForTest exposes rewriteCriteria to the tests.
func RewriteCriteriaForTest(criteria string, ids map[string]string) string {
	return rewriteCriteria(criteria, ids)
}

// SweptTablesForTest exposes sweptTables to the tests.
var SweptTablesForTest = sweptTables

// CrashForTest makes clones stop as if their process died whenever they
// fail (see crash), until the returned function is called.
func CrashForTest() (restore func()) {
	crash = true
	return func() { crash = false }
}

// BeginIntentForTest exposes beginIntent to the tests: a clone into dst
// that looks as if it were running until end is called.
var BeginIntentForTest = beginIntent
