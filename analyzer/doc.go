// Package analyzer turns a trace.Run into a Report: a feature vector,
// the findings of detection rules (each tied to MITRE ATT&CK techniques
// and carrying copies of the events that prove it), an optional model's
// classification, and a verdict with a score. Analyze is a pure function
// of the Run and the analyzer's versions: the same Run always yields the
// same Report, byte for byte, so stored runs can be reclassified anywhere.
//
// Features (features.go) summarise a run as numbers for the model: execs
// by kind of program, shells on sockets, destinations and ports, DNS
// entropy, credential reads, persistence writes, files written then run
// or deleted after running, setuid bits, privileged syscalls, CPU share,
// fork rate, tree depth, bytes sent and more. FeatureNames and Vector give
// a stable order (append only) and FeatureDocs says what each measures.
//
// Rules are typed data (Rule: id, title, description, severity,
// confidence, ATT&CK ids) plus a match function over an Index built once
// per run (programs by process and time, opens with resolved paths,
// events by kind). They are grouped one family per file:
// rules_execution.go, rules_persistence.go, rules_privilege.go,
// rules_evasion.go, rules_credential.go, rules_discovery.go,
// rules_lateral.go, rules_collection.go, rules_c2.go,
// rules_exfiltration.go, rules_impact.go, rules_resource.go. Rules judge
// behaviour (who opened, wrote, ran or connected to what), never a
// sample's literal command line, and they score attempts that gVisor
// refused as much as successes.
//
// # POLICY
//
// Each finding weighs w = severity weight × confidence, with weights
// info 0, low 0.2, medium 0.45, high 0.8, critical 1. A rule counts once,
// by its strongest finding. The rule score is R = 1 - Π(1 - w) over the
// rules that fired, so independent evidence accumulates: one high finding
// (w ≈ 0.7) is malicious on its own, one medium finding (w ≈ 0.35) is
// suspicious, a single low one (w = 0.14) is not, three low ones are.
//
// With a Classifier, a malicious label counts from a majority of the vote
// on: p = (Probability - 0.5) / 0.5, clamped to 0..1, and p = 0 for a
// benign label however unsure (a split vote is no evidence). With the
// anomaly a, M = min(0.6·p + 0.25·a·(1 - 0.6·p), 0.65); without a model
// M = 0 and the report says model "none", label "unknown". The model alone
// can make a run suspicious, never malicious.
//
// The score is S = 1 - (1 - R)(1 - M), rounded to three decimals. The
// verdict is malicious when S ≥ 0.7, suspicious when S ≥ 0.3, clean
// otherwise. Every technique in the report lists the findings behind it;
// its confidence is 1 - Π(1 - confidence) over those findings.
//
// Technique ids are ATT&CK v18 (sub-techniques as T1053.003); where v19
// renumbered one (the Impair Defenses family) the report adds id_v19.
package analyzer
