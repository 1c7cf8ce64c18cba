// Command k8s-validate checks rendered Kubernetes manifests offline, the way an API server would
// decode them: every built-in object is decoded strictly into its k8s.io/api type (unknown or
// duplicate fields, wrong types and unregistered kinds are errors), and custom resources are
// validated against the openAPIV3Schema of the CRD files given with -crd (schema constraints plus
// fields the schema does not declare).
//
// Usage: k8s-validate [-crd file.yaml]... manifest.yaml... (a manifest "-" reads stdin)
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"sigs.k8s.io/yaml"
)

type crdFiles []string

func (c *crdFiles) String() string     { return strings.Join(*c, ",") }
func (c *crdFiles) Set(v string) error { *c = append(*c, v); return nil }

type customSchema struct {
	raw       map[string]interface{}
	validator *validate.SchemaValidator
}

func builtinScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme,
		autoscalingv2.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme,
		admissionregistrationv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// loadCRD reads a CustomResourceDefinition and returns a validator per group/version/kind.
func loadCRD(file string, out map[schema.GroupVersionKind]customSchema) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var crd struct {
		Spec struct {
			Group string `json:"group"`
			Names struct {
				Kind string `json:"kind"`
			} `json:"names"`
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema json.RawMessage `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if crd.Spec.Names.Kind == "" || len(crd.Spec.Versions) == 0 {
		return fmt.Errorf("%s: not a CustomResourceDefinition with versions", file)
	}
	for _, version := range crd.Spec.Versions {
		var s spec.Schema
		if err := json.Unmarshal(version.Schema.OpenAPIV3Schema, &s); err != nil {
			return fmt.Errorf("%s (%s): %w", file, version.Name, err)
		}
		var raw map[string]interface{}
		if err := json.Unmarshal(version.Schema.OpenAPIV3Schema, &raw); err != nil {
			return err
		}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: version.Name, Kind: crd.Spec.Names.Kind}
		out[gvk] = customSchema{raw: raw, validator: validate.NewSchemaValidator(&s, nil, "", strfmt.Default)}
	}
	return nil
}

// undeclaredFields lists object keys the schema does not declare (the API server would prune them
// silently, which hides a misspelt value), skipping metadata and preserve-unknown-fields subtrees.
func undeclaredFields(schemaNode map[string]interface{}, value interface{}, path string, out *[]string) {
	if preserve, _ := schemaNode["x-kubernetes-preserve-unknown-fields"].(bool); preserve {
		return
	}
	switch v := value.(type) {
	case map[string]interface{}:
		props, _ := schemaNode["properties"].(map[string]interface{})
		additional, hasAdditional := schemaNode["additionalProperties"].(map[string]interface{})
		for key, child := range v {
			if path == "" && (key == "metadata" || key == "apiVersion" || key == "kind") {
				continue
			}
			if sub, ok := props[key].(map[string]interface{}); ok {
				undeclaredFields(sub, child, path+"."+key, out)
			} else if hasAdditional {
				undeclaredFields(additional, child, path+"."+key, out)
			} else if props != nil {
				*out = append(*out, path+"."+key)
			}
		}
	case []interface{}:
		if items, ok := schemaNode["items"].(map[string]interface{}); ok {
			for i, child := range v {
				undeclaredFields(items, child, fmt.Sprintf("%s[%d]", path, i), out)
			}
		}
	}
}

func validateDocument(doc []byte, decoder runtime.Decoder, custom map[schema.GroupVersionKind]customSchema) (string, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return "", err
	}
	if meta.Kind == "" || meta.APIVersion == "" {
		return "", errors.New("document without apiVersion/kind")
	}
	if meta.Metadata.Name == "" {
		return "", fmt.Errorf("%s without metadata.name", meta.Kind)
	}
	name := fmt.Sprintf("%s %s/%s", meta.APIVersion, meta.Kind, meta.Metadata.Name)
	gv, err := schema.ParseGroupVersion(meta.APIVersion)
	if err != nil {
		return name, err
	}
	if cs, ok := custom[gv.WithKind(meta.Kind)]; ok {
		jsonDoc, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return name, err
		}
		var object map[string]interface{}
		if err := json.Unmarshal(jsonDoc, &object); err != nil {
			return name, err
		}
		var problems []string
		if result := cs.validator.Validate(object); !result.IsValid() {
			for _, e := range result.Errors {
				problems = append(problems, e.Error())
			}
		}
		var undeclared []string
		undeclaredFields(cs.raw, object, "", &undeclared)
		for _, field := range undeclared {
			problems = append(problems, "unknown field "+strings.TrimPrefix(field, "."))
		}
		if len(problems) > 0 {
			sort.Strings(problems)
			return name, errors.New(strings.Join(problems, "; "))
		}
		return name + " (CRD schema)", nil
	}
	jsonDoc, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return name, err
	}
	if _, _, err := decoder.Decode(jsonDoc, nil, nil); err != nil {
		return name, err
	}
	return name, nil
}

func main() {
	var crds crdFiles
	flag.Var(&crds, "crd", "CustomResourceDefinition YAML to validate its custom resources against (repeatable)")
	quiet := flag.Bool("q", false, "print only failures and the summary")
	flag.Parse()
	scheme, err := builtinScheme()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	custom := map[schema.GroupVersionKind]customSchema{}
	for _, file := range crds {
		if err := loadCRD(file, custom); err != nil {
			fmt.Fprintln(os.Stderr, "k8s-validate:", err)
			os.Exit(2)
		}
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	valid, invalid := 0, 0
	for _, file := range flag.Args() {
		var input io.Reader = os.Stdin
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				fmt.Fprintln(os.Stderr, "k8s-validate:", err)
				os.Exit(2)
			}
			defer f.Close()
			input = f
		}
		reader := utilyaml.NewYAMLReader(bufioReader(input))
		for {
			doc, err := reader.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
				os.Exit(2)
			}
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			name, err := validateDocument(doc, decoder, custom)
			if err != nil {
				invalid++
				fmt.Printf("INVALID %s: %s: %v\n", file, name, err)
				continue
			}
			valid++
			if !*quiet {
				fmt.Printf("valid   %s: %s\n", file, name)
			}
		}
	}
	fmt.Printf("%d valid, %d invalid\n", valid, invalid)
	if invalid > 0 || valid == 0 {
		os.Exit(1)
	}
}
