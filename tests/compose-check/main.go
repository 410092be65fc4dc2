// compose-check loads docker-compose.yml with compose-go, the parser Docker Compose itself
// uses, and prints the project it resolved as JSON: compose-go's own model, normalised (merge
// keys applied, short forms written out, interpolation done, `depends_on` and volume
// references checked). It fails on anything compose-go rejects: schema errors, unknown keys,
// bad merges, invalid interpolation, dependencies on missing services, a volume or network
// that is not declared.
//
// Usage (from the repository root): go run ./tests/compose-check [docker-compose.yml]
// tests/tests/compose.rs runs it and asserts on the model it prints.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	file := "docker-compose.yml"
	if len(os.Args) > 1 {
		file = os.Args[1]
	}
	options, err := cli.NewProjectOptions([]string{file},
		cli.WithName("saga"),
		// Interpolation as `docker compose` does it, without the caller's environment (the
		// file's ${VAR:-default} must hold on their own).
		cli.WithEnv([]string{}),
		cli.WithResolvedPaths(false),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	model, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(model)
	fmt.Println()
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
	os.Exit(1)
}
