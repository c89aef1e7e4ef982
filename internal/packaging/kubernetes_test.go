package packaging

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/app"
	"github.com/sloguard/sloguard/serve"
	"github.com/sloguard/sloguard/slo"
)

// The parts of the Kubernetes objects the checks below read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Spec k8sPod `yaml:"spec"`
		} `yaml:"template"`
		Ports []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type k8sPod struct {
	SecurityContext struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    *int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []struct {
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				SecretKeyRef *struct{ Name, Key string } `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		ReadinessProbe  k8sProbe `yaml:"readinessProbe"`
		LivenessProbe   k8sProbe `yaml:"livenessProbe"`
		SecurityContext struct {
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
			Items      []struct{ Key, Path string }
		} `yaml:"secret"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// readKubernetes reads every object of the manifest by kind.
func readKubernetes(t *testing.T) map[string]k8sObject {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "examples/kubernetes/sloguard-serve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		out[o.Kind] = o
	}
	for _, k := range []string{"ConfigMap", "PersistentVolumeClaim", "Deployment", "Service"} {
		if _, ok := out[k]; !ok {
			t.Fatalf("examples/kubernetes/sloguard-serve.yaml has no %s", k)
		}
	}
	return out
}

// flag returns the value after name in args.
func flag(args []string, name string) string {
	if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// mountedFrom returns the volume mounted at the longest mount path that
// holds path.
func mountedFrom(t *testing.T, pod k8sPod, path string) string {
	t.Helper()
	best, vol := "", ""
	for _, m := range pod.Containers[0].VolumeMounts {
		if strings.HasPrefix(path, strings.TrimRight(m.MountPath, "/")+"/") && len(m.MountPath) > len(best) {
			best, vol = m.MountPath, m.Name
		}
	}
	if vol == "" {
		t.Fatalf("%s is on no mounted volume", path)
	}
	return vol
}

func TestTheKubernetesManifestRunsServeNonRootWithItsStateAndSecrets(t *testing.T) {
	objs := readKubernetes(t)
	dep := objs["Deployment"]
	pod := dep.Spec.Template.Spec
	sc := pod.SecurityContext
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Errorf("pod securityContext = %+v, want runAsNonRoot: true, runAsUser: 65532 (the image's default user is root for GitHub)", sc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("container securityContext = %+v, want no privilege escalation and a read-only root filesystem", c.SecurityContext)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 || dep.Spec.Strategy.Type != "Recreate" {
		t.Errorf("replicas %v strategy %q: one process owns the state file, so 1 and Recreate", dep.Spec.Replicas, dep.Spec.Strategy.Type)
	}
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("args %v, want serve first (the image's entrypoint is sloguard)", c.Args)
	}

	// --listen is the container port the probes and the Service use.
	listen := flag(c.Args, "--listen")
	if len(c.Ports) != 1 || ":"+strconv.Itoa(c.Ports[0].ContainerPort) != listen {
		t.Errorf("--listen %q vs ports %+v: they must agree", listen, c.Ports)
	}
	port := c.Ports[0].Name
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port != port || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe.HTTPGet.Port != port {
		t.Errorf("probes %+v / %+v, want /readyz and /healthz on port %s", c.ReadinessProbe, c.LivenessProbe, port)
	}
	if svc := objs["Service"]; len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != port {
		t.Errorf("Service ports %+v, want targetPort %s", svc.Spec.Ports, port)
	}

	volumes := map[string]int{}
	for i, v := range pod.Volumes {
		volumes[v.Name] = i
	}
	// --state lies on the PersistentVolumeClaim.
	stateVol := pod.Volumes[volumes[mountedFrom(t, pod, flag(c.Args, "--state"))]]
	if stateVol.PersistentVolumeClaim == nil || stateVol.PersistentVolumeClaim.ClaimName != objs["PersistentVolumeClaim"].Metadata.Name {
		t.Errorf("--state is on volume %+v, want the PersistentVolumeClaim: pending evaluations must survive the pod", stateVol)
	}

	// -c is the ConfigMap's sloguard.yaml, which serve accepts.
	cfgPath := flag(c.Args, "-c")
	cfgVol := pod.Volumes[volumes[mountedFrom(t, pod, cfgPath)]]
	cm := objs["ConfigMap"]
	if cfgVol.ConfigMap == nil || cfgVol.ConfigMap.Name != cm.Metadata.Name || cm.Data[filepath.Base(cfgPath)] == "" {
		t.Fatalf("-c %s is not the ConfigMap's %s", cfgPath, filepath.Base(cfgPath))
	}
	cfg, err := slo.Parse(cfgPath, []byte(cm.Data[filepath.Base(cfgPath)]), app.LoadOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := serve.ParseConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Every secret the config names comes from a Secret: variables by
	// secretKeyRef, the App's key as a file on a secret volume.
	fromSecret := map[string]bool{}
	for _, e := range c.Env {
		if e.Value != "" {
			t.Errorf("env %s has a literal value: secrets come from a Secret", e.Name)
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			fromSecret[e.Name] = true
		}
	}
	want := append(app.SecretEnvs(cfg), sv.GitHub.AppIDEnv, sv.GitHub.WebhookSecretEnv, sv.Azure.UsernameEnv, sv.Azure.PasswordEnv)
	for _, n := range want {
		if !fromSecret[n] {
			t.Errorf("the config reads %s, which the Deployment does not set from a Secret", n)
		}
	}
	keyVol := pod.Volumes[volumes[mountedFrom(t, pod, sv.GitHub.PrivateKeyFile)]]
	if keyVol.Secret == nil || len(keyVol.Secret.Items) != 1 || keyVol.Secret.Items[0].Path != filepath.Base(sv.GitHub.PrivateKeyFile) {
		t.Errorf("private_key_file %s is not a file of a secret volume: %+v", sv.GitHub.PrivateKeyFile, keyVol)
	}
}
