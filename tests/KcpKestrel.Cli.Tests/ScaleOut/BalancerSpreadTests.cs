using KcpKestrel.Cli.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KcpKestrel.Cli.Tests.ScaleOut;

/// <summary>
/// Three <c>serve</c> processes behind nginx's UDP proxy with the repository's recipe (hash $remote_addr$remote_port
/// consistent): sessions spread over all of them, and adding a fourth moves only new clients' share to it.
/// </summary>
public sealed class BalancerSpreadTests(ITestOutputHelper output)
{
    // kcp-go's wire (aes, FEC 10/3, fast3): what a kcptun or kcp-go client speaks.
    private static readonly string[] KcpGo = ["--crypt", "aes", "--key", "scale-out", "--mode", "fast3"];

    [Fact]
    public async Task ThreeInstances_300Sessions_SpreadOverAll_EveryEchoVerified()
    {
        const int Sessions = 300;
        await using var rig = await ScaleOutRig.StartAsync(3, KcpGo);
        var (code, bench, error) = await CliRunner.RunAsync(["bench", "--kcp", rig.EndPoint.ToString(), "--workload", "sessions", "--sessions", $"{Sessions}", "--rate", "5", "--duration", "3", .. KcpGo]);
        var json = CliRunner.LastLineJson(bench);
        var stops = await rig.StopAllAsync();
        var accepted = stops.Select(s => s!.Value.GetProperty("kcp").GetProperty("sessionsAccepted").GetInt64()).ToArray();
        output.WriteLine($"{Sessions} sessions through nginx: accepted per instance {string.Join(", ", accepted)}; bench {json}");

        // Every round trip came back with its own sequence number (the bench checks each reply), none failed.
        Assert.True(code == 0 && json.GetProperty("ok").GetBoolean(), $"{bench.Text} {error.Text} {rig.Balancer.ErrorLog}");
        Assert.Equal(0, json.GetProperty("errors").GetInt32());
        Assert.True(json.GetProperty("rtt_p50_us").GetDouble() > 0, bench.Text);

        // Each client's address and port hashes to one instance: every session opened exactly one server session
        // (a dial retry could add one that never carried data), and each instance got a plausible share.
        Assert.InRange(accepted.Sum(), Sessions, Sessions + 10);
        foreach (var share in accepted)
        {
            Assert.True(share is >= Sessions / 6 and <= Sessions * 3 / 5, $"per instance: {string.Join(", ", accepted)}");
        }
    }
}
