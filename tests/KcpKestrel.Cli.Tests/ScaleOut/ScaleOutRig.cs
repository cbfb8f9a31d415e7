using System.Net;
using System.Text.Json;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests.ScaleOut;

/// <summary>
/// Several <c>kcpkestrel serve</c> processes on loopback behind nginx's UDP proxy (deploy/nginx/kcpkestrel-udp.conf):
/// the scale-out harness of issue #22. Disposing it stops nginx and kills every instance still running.
/// </summary>
internal sealed class ScaleOutRig : IAsyncDisposable
{
    private static readonly HttpClient s_http = new() { Timeout = TestWaits.Bound };

    private readonly string[] _serveArgs;
    private readonly List<ServeChild> _instances;

    private ScaleOutRig(string[] serveArgs, List<ServeChild> instances, NginxUdpBalancer balancer)
    {
        _serveArgs = serveArgs;
        _instances = instances;
        Balancer = balancer;
    }

    public NginxUdpBalancer Balancer { get; }

    /// <summary>Every instance started, in start order (stopped ones included).</summary>
    public IReadOnlyList<ServeChild> Instances => _instances;

    /// <summary>Where clients dial: nginx.</summary>
    public IPEndPoint EndPoint => Balancer.EndPoint;

    /// <summary><paramref name="count"/> instances (started at once) with <paramref name="serveArgs"/>, then nginx over them.</summary>
    public static async Task<ScaleOutRig> StartAsync(int count, params string[] serveArgs)
    {
        var starts = Enumerable.Range(0, count).Select(_ => ServeChild.StartAsync(serveArgs)).ToArray();
        try
        {
            await Task.WhenAll(starts);
        }
        catch
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync();
            }

            throw;
        }

        var instances = starts.Select(s => s.Result).ToList();
        try
        {
            var balancer = await NginxUdpBalancer.StartAsync([.. instances.Select(i => i.Kcp)]);
            return new ScaleOutRig(serveArgs, instances, balancer);
        }
        catch
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Starts one more instance and reloads nginx with it added to the upstream list.</summary>
    public async Task<ServeChild> AddInstanceAsync()
    {
        var added = await ServeChild.StartAsync(_serveArgs);
        _instances.Add(added);
        await Balancer.ReloadAsync([.. Balancer.Upstreams, added.Kcp]);
        return added;
    }

    /// <summary>Stops (SIGTERM) every instance still running and returns each one's stop JSON (null for one that was killed).</summary>
    public async Task<JsonElement?[]> StopAllAsync()
    {
        var stops = _instances.Select(async i => i.HasExited && !i.Out.Lines.Any(l => l.StartsWith("{\"event\":\"stopped\"", StringComparison.Ordinal))
            ? (JsonElement?)null
            : await i.StopAsync());
        return await Task.WhenAll(stops);
    }

    /// <summary>Instance <paramref name="index"/>'s <c>GET /healthz</c> (serve's --health): its status code and JSON body.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> HealthAsync(int index)
    {
        using var response = await s_http.GetAsync(new Uri($"http://{CliRunner.Endpoint(_instances[index].ReadyLine, "health")}/healthz"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.Clone());
    }

    /// <summary>What an instance's stop JSON says about it, for failure messages.</summary>
    public static string Describe(JsonElement?[] stops) => string.Join("; ", stops.Select((s, i) => $"instance {i}: {(s is { } json ? json.GetProperty("kcp").ToString() : "killed")}"));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Balancer.DisposeAsync();
        }
        finally
        {
            foreach (var instance in _instances)
            {
                await instance.DisposeAsync();
            }
        }
    }
}
