// Package classifier plugs a trained model into the analyzer: it
// implements analyzer.Classifier over a models.Model, bound by feature
// name to the analyzer's current feature set, so a model trained on other
// features is refused when the classifier is made, not misread later.
package classifier
