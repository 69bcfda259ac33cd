package analyzer

// Rules returns the built-in rule set, one family per file
// (rules_<tactic>.go). The order is the report's tie-break order only.
func Rules() []Rule {
	var all []Rule
	for _, fam := range [][]Rule{
		executionRules(), persistenceRules(), privilegeRules(), evasionRules(), credentialRules(),
		discoveryRules(), lateralRules(), collectionRules(), c2Rules(), exfiltrationRules(), impactRules(),
		resourceRules(),
	} {
		all = append(all, fam...)
	}
	return all
}
