using k8s;
using k8s.Models;
using KcpKestrel.Tests.Shared;

namespace KcpKestrel.Cli.Tests.Deploy;

/// <summary>
/// deploy/kubernetes/*.yaml against the Kubernetes API schema, as KubernetesClient's models (generated
/// from the Kubernetes OpenAPI specification) read it in strict mode: an unknown or misspelt field,
/// a wrong type or an unknown kind fails. Then what the schema cannot say: the pieces fit together.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string s_folder = RepositoryRoot.Combine("deploy", "kubernetes");

    public static TheoryData<string> Manifests()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(s_folder, "*.yaml"))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Manifest_ReadStrictlyAgainstTheApiTypes_IsValid(string file)
    {
        var objects = Load(file);

        Assert.NotEmpty(objects);
        foreach (var item in objects)
        {
            var metadata = Assert.IsAssignableFrom<IKubernetesObject<V1ObjectMeta>>(item).Metadata;
            Assert.False(string.IsNullOrEmpty(metadata.Name), $"{file}: every object needs metadata.name");
        }
    }

    [Fact]
    public void Manifest_WithAnUnknownField_IsRefused()
    {
        // The check itself: strict mode must refuse what the API server would (a typo in a field name).
        const string Service = "apiVersion: v1\nkind: Service\nmetadata: { name: x }\nspec:\n  sessionAffinity: ClientIP\n";
        var typo = Service.Replace("sessionAffinity", "sesionAffinity", StringComparison.Ordinal);

        Assert.IsType<V1Service>(Assert.Single(KubernetesYaml.LoadAllFromString(Service, strict: true)));
        var error = Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(typo, strict: true));
        Assert.Contains("sesionAffinity", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Service_KcpPort_IsUdpWithClientAffinityAndTheClientAddressKept()
    {
        var service = Single<V1Service>("service.yaml");
        var deployment = Single<V1Deployment>("deployment.yaml");

        var kcp = Assert.Single(service.Spec.Ports, p => p.Name == "kcp");
        Assert.Equal("UDP", kcp.Protocol);
        Assert.Equal("ClientIP", service.Spec.SessionAffinity);

        // The affinity must outlive a session's longest quiet gap (KcpOptions.IdleTimeout's default).
        var idle = new KcpKestrel.Transport.Kcp.KcpOptions().IdleTimeout;
        Assert.True(service.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds > idle.TotalSeconds);

        // Without Local the node SNATs: every client would look alike to the affinity and to the server.
        Assert.Equal("Local", service.Spec.ExternalTrafficPolicy);

        // The Service reaches the Deployment's pods, on a port their container declares with the same protocol.
        foreach (var (key, value) in service.Spec.Selector)
        {
            Assert.Equal(value, deployment.Spec.Template.Metadata.Labels[key]);
        }

        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        var target = Assert.Single(container.Ports, p => p.Name == kcp.TargetPort.Value);
        Assert.Equal("UDP", target.Protocol);
    }

    [Fact]
    public void Deployment_Probes_ReadTheHealthEndpointThatServeIsGiven()
    {
        var deployment = Single<V1Deployment>("deployment.yaml");
        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        var health = Assert.Single(container.Ports, p => p.Name == "health");
        var healthFlag = Assert.Single(container.Args, a => a.StartsWith("--health=", StringComparison.Ordinal));

        Assert.EndsWith(":" + health.ContainerPort, healthFlag, StringComparison.Ordinal);
        foreach (var probe in new[] { container.ReadinessProbe, container.LivenessProbe })
        {
            Assert.Equal("/healthz", probe.HttpGet.Path);
            Assert.Equal("health", probe.HttpGet.Port.Value);
        }

        // The grace period must cover the drain delay plus serve's bounded stop, or the kubelet kills mid-drain.
        var delay = int.Parse(Assert.Single(container.Args, a => a.StartsWith("--drain-delay=", StringComparison.Ordinal))["--drain-delay=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(deployment.Spec.Template.Spec.TerminationGracePeriodSeconds >= delay + 10);

        // The key comes from a Secret through the variable serve reads, never from the command line.
        Assert.DoesNotContain(container.Args, a => a.StartsWith("--key", StringComparison.Ordinal));
        var key = Assert.Single(container.Env, e => e.Name == Commands.KcpFlags.KeyVariable);
        Assert.NotNull(key.ValueFrom.SecretKeyRef);
    }

    [Fact]
    public void Deployment_Args_ParseWithTheRealCli()
    {
        var container = Assert.Single(Single<V1Deployment>("deployment.yaml").Spec.Template.Spec.Containers);

        // The kubelet expands $(POD_NAME) from the pod's env before serve sees it.
        var args = container.Args.Select(a => a.Replace("$(POD_NAME)", "kcpkestrel-7d9f-x2x", StringComparison.Ordinal)).ToArray();
        var parse = CliApp.BuildRoot(new CliIo(TextWriter.Null, TextWriter.Null, null, false)).Parse(args);

        Assert.Empty(parse.Errors);
        Assert.Equal("serve", parse.CommandResult.Command.Name);
    }

    private static List<object> Load(string file) =>
        KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(s_folder, file)), strict: true);

    private static T Single<T>(string file) => Assert.IsType<T>(Assert.Single(Load(file)));
}
