// compose-check loads docker-compose.yml with compose-go, the parser Docker Compose itself
// uses, and fails on anything it rejects: schema errors, unknown keys, bad merges, invalid
// interpolation, dependencies on missing services, a volume or network that is not declared.
// It prints what it resolved for the checks that matter to the secured deployment (each
// container's credentials mount and its subpath), so that a reader sees what compose would do.
//
// Usage (from the repository root): go run ./tests/compose-check [docker-compose.yml]
// tests/tests/compose.rs runs it when Go is installed.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	file := "docker-compose.yml"
	if len(os.Args) > 1 {
		file = os.Args[1]
	}
	ctx := context.Background()
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
	project, err := options.LoadProject(ctx)
	if err != nil {
		fail(err)
	}
	names := project.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		service := project.Services[name]
		for _, v := range service.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source == "credentials" {
				sub := ""
				if v.Volume != nil {
					sub = v.Volume.Subpath
				}
				fmt.Printf("%s: credentials subpath %q on %s (read-only %v)\n", name, sub, v.Target, v.ReadOnly)
			}
		}
		for dep, d := range service.DependsOn {
			fmt.Printf("%s: after %s %s\n", name, dep, d.Condition)
		}
	}
	fmt.Printf("compose-check: %s is valid: %d services, %d volumes\n", file, len(project.Services), len(project.Volumes))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
	os.Exit(1)
}
