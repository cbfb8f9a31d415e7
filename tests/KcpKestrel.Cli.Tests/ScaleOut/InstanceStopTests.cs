using System.Net;
using System.Text.Json;
using KcpKestrel.Cli.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KcpKestrel.Cli.Tests.ScaleOut;

/// <summary>
/// One of three instances behind nginx stops mid-run while <c>bench --workload sessions --redial</c> clients ping-pong
/// through it: drained (SIGTERM with --drain-delay) its sessions end with the close signal, crashed (SIGKILL) they go
/// silent until the round-trip timeout; either way their clients redial through nginx onto the survivors, and the
/// sessions on the other instances never end.
/// </summary>
public sealed class InstanceStopTests(ITestOutputHelper output)
{
    private const int Sessions = 90;

    // kcp-go's wire: drain and failover need nothing from our AEAD modes.
    private static readonly string[] KcpGo = ["--crypt", "aes", "--key", "scale-out"];

    [Fact]
    public async Task Drain_SigtermOneInstance_HealthTurns503_ItsSessionsEndCleanlyAndRedial_OthersKeepGoing()
    {
        await using var rig = await ScaleOutRig.StartAsync(3, ["--health", "127.0.0.1:0", "--drain-delay", "1", .. KcpGo]);
        var bench = RunBenchAsync(rig, roundTripTimeout: 2);
        var affected = await WaitForAllSessionsAsync(rig);

        var stopping = rig.Instances[0];
        stopping.Signal(Signals.Term);
        JsonElement draining = default;
        await TestWaits.WaitUntilAsync(
            async () => (await rig.HealthAsync(0)) is { Status: HttpStatusCode.ServiceUnavailable } health && (draining = health.Body).ValueKind == JsonValueKind.Object,
            "the draining instance's /healthz to answer 503");
        Assert.True(draining.GetProperty("draining").GetBoolean(), draining.ToString());
        var stopped = await stopping.StoppedAsync();

        var json = await bench;
        var stops = await rig.StopAllAsync();
        output.WriteLine($"drain: {affected} sessions on the drained instance; bench {json}; draining /healthz {draining}; {ScaleOutRig.Describe(stops)}");

        // Exactly the drained instance's sessions ended, each with the close signal (end-of-stream), and each one
        // redialed onto a survivor; the others' sessions never ended.
        Assert.Equal(affected, json.GetProperty("ended").GetInt64());
        Assert.Equal(affected, json.GetProperty("ended_eof").GetInt64());
        Assert.Equal(affected, json.GetProperty("redialed").GetInt64());
        Assert.Equal(0, json.GetProperty("failed").GetInt64());
        Assert.True(json.GetProperty("ok").GetBoolean(), json.ToString());
        Assert.Equal(draining.GetProperty("instance").GetString(), stopped.GetProperty("instance").GetString());
        Assert.True(stops[1]!.Value.GetProperty("kcp").GetProperty("sessionsAccepted").GetInt64() + stops[2]!.Value.GetProperty("kcp").GetProperty("sessionsAccepted").GetInt64() >= Sessions);
    }

    [Fact]
    public async Task Crash_SigkillOneInstance_ItsSessionsTimeOutAndRedial_OthersKeepGoing()
    {
        await using var rig = await ScaleOutRig.StartAsync(3, ["--health", "127.0.0.1:0", .. KcpGo]);
        var bench = RunBenchAsync(rig, roundTripTimeout: 1);
        var affected = await WaitForAllSessionsAsync(rig);

        // Let the sessions exchange data first (5 round trips a second each): a session killed before any reply
        // reached its client is a different case, below.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var acceptedBefore = await SurvivorsAcceptedAsync(rig);
        await rig.Instances[0].KillAsync();
        var json = await bench;
        var stops = await rig.StopAllAsync();
        var reopened = stops[1]!.Value.GetProperty("kcp").GetProperty("sessionsAccepted").GetInt64()
            + stops[2]!.Value.GetProperty("kcp").GetProperty("sessionsAccepted").GetInt64()
            - acceptedBefore - json.GetProperty("redialed").GetInt64();
        output.WriteLine($"crash: {affected} sessions on the killed instance; {reopened} reopened on a survivor from sn 0; bench {json}; nginx: {rig.Balancer.ErrorLog.Split('\n').Count(l => l.Contains("111: Connection refused", StringComparison.Ordinal))} 'connection refused' (ICMP port unreachable) lines; {ScaleOutRig.Describe(stops)}");

        // After the dead upstream's ICMP refusal nginx sends the session's next datagram to a survivor. A session
        // that has had data from the dead instance carries una > 0 there, which no new session accepts (counted
        // malformed): it hears nothing, ends by the round-trip timeout (1 s here, 5 s by default) and redials.
        // A session whose first data was not yet answered still starts at sn 0 and una 0 in both directions, so the
        // survivor opens it and it goes on as a whole stream (docs/scale-out.md, "When an instance crashes").
        // Every session of the killed instance is one or the other (a redial attempt that timed out after reaching a
        // survivor may add one more), and every echo of the run was verified.
        var ended = json.GetProperty("ended").GetInt64();
        var extraAttempts = json.GetProperty("dial_attempts").GetInt64() - Sessions - json.GetProperty("redialed").GetInt64();
        Assert.InRange(ended + reopened, affected, affected + extraAttempts);
        Assert.True(ended >= 1, json.ToString());
        Assert.Equal(ended, json.GetProperty("ended_timeout").GetInt64());
        Assert.Equal(ended, json.GetProperty("redialed").GetInt64());
        Assert.Equal(0, json.GetProperty("failed").GetInt64());
        Assert.Equal(0, json.GetProperty("errors").GetInt64());
        Assert.True(json.GetProperty("ok").GetBoolean(), json.ToString());
        Assert.Null(stops[0]);
    }

    private static async Task<long> SurvivorsAcceptedAsync(ScaleOutRig rig) =>
        (await rig.HealthAsync(1)).Body.GetProperty("sessionsAccepted").GetInt64() + (await rig.HealthAsync(2)).Body.GetProperty("sessionsAccepted").GetInt64();

    private static async Task<JsonElement> RunBenchAsync(ScaleOutRig rig, double roundTripTimeout)
    {
        var (code, bench, error) = await CliRunner.RunAsync(["bench", "--kcp", rig.EndPoint.ToString(), "--workload", "sessions", "--sessions", $"{Sessions}", "--rate", "5", "--duration", "8", "--redial", "--round-trip-timeout", $"{roundTripTimeout}", .. KcpGo]);
        Assert.True(code == 0, $"bench exited with {code}: {bench.Text} {error.Text} {rig.Balancer.ErrorLog}");
        return CliRunner.LastLineJson(bench);
    }

    /// <summary>Waits until every client has its session (the instances' /healthz sessions add up); returns instance 0's.</summary>
    private static async Task<long> WaitForAllSessionsAsync(ScaleOutRig rig)
    {
        long[] open = [];
        await TestWaits.WaitUntilAsync(
            async () =>
            {
                open = await Task.WhenAll(Enumerable.Range(0, 3).Select(async i => (await rig.HealthAsync(i)).Body.GetProperty("sessions").GetInt64()));
                return open.Sum() == Sessions;
            },
            "every bench session to open");
        Assert.True(open[0] > 0, $"no session on instance 0: {string.Join(", ", open)}");
        return open[0];
    }
}
