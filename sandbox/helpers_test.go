package sandbox_test

import (
	"context"

	"github.com/containerd/containerd/v2/pkg/namespaces"
)

func namespaced(ctx context.Context, ns string) context.Context {
	return namespaces.WithNamespace(ctx, ns)
}
