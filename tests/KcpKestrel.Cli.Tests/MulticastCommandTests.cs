using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

public sealed class MulticastCommandTests
{
    [Fact]
    public async Task PubToTwoSubsOnLoopback_OneDropping5Percent_EverythingArrivesInOrder()
    {
        var group = $"239.255.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}:{Random.Shared.Next(40000, 60000)}";
        string[] Common(string verb) => ["multicast", verb, "--group", group, "--interface", "127.0.0.1", "--topic", "3", "--count", "20000"];
        var lossless = StartSub([.. Common("sub"), "--node", "20", "--timeout", "60"]);
        var lossy = StartSub([.. Common("sub"), "--node", "21", "--drop", "0.05", "--seed", "7", "--timeout", "60"]);
        await lossless.Output.WaitForLineAsync(l => l.StartsWith("joined", StringComparison.Ordinal), TestWaits.Bound);
        await lossy.Output.WaitForLineAsync(l => l.StartsWith("joined", StringComparison.Ordinal), TestWaits.Bound);

        var (code, output, error) = await CliRunner.RunAsync([.. Common("pub"), "--size", "70", "--pps", "20000", "--linger", "0.5"]);
        Assert.True(code == 0, error.Text);
        var pub = CliRunner.LastLineJson(output);
        Assert.Equal(20000, pub.GetProperty("messages").GetInt64());
        Assert.Equal(20000 * 70, pub.GetProperty("bytes").GetInt64());

        foreach (var (sub, naks) in new[] { (lossless, false), (lossy, true) })
        {
            Assert.Equal(0, await sub.Run.WaitAsync(TestWaits.Bound));
            var json = CliRunner.LastLineJson(sub.Output);
            Assert.Equal(20000, json.GetProperty("in_order").GetInt64());
            Assert.Equal(0, json.GetProperty("duplicates").GetInt64());
            Assert.Equal(0, json.GetProperty("unrecovered").GetInt64());
            Assert.True(json.GetProperty("checksum_ok").GetBoolean());
            Assert.Equal(naks, json.GetProperty("naks_sent").GetInt64() > 0);
        }

        Assert.True(pub.GetProperty("retransmits").GetInt64() > 0);
    }

    [Fact]
    public async Task CryptAndFec_SubDropping5Percent_EverythingArrives_JsonCountsRebuiltPackets()
    {
        var group = $"239.255.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}:{Random.Shared.Next(40000, 60000)}";
        string[] Common(string verb) =>
            ["multicast", verb, "--group", group, "--interface", "127.0.0.1", "--count", "20000", "--crypt", "aes-128-gcm", "--key", "k", "--datashard", "10", "--parityshard", "3"];
        var sub = StartSub([.. Common("sub"), "--node", "22", "--drop", "0.05", "--seed", "7", "--timeout", "60"]);
        await sub.Output.WaitForLineAsync(l => l.StartsWith("joined", StringComparison.Ordinal), TestWaits.Bound);

        var (code, _, error) = await CliRunner.RunAsync([.. Common("pub"), "--pps", "20000", "--linger", "0.5"]);
        Assert.True(code == 0, error.Text);
        Assert.Equal(0, await sub.Run.WaitAsync(TestWaits.Bound));
        var json = CliRunner.LastLineJson(sub.Output);
        Assert.Equal((20000L, 0L, true), (json.GetProperty("in_order").GetInt64(), json.GetProperty("unrecovered").GetInt64(), json.GetProperty("checksum_ok").GetBoolean()));
        Assert.True(json.GetProperty("fec_recovered").GetInt64() > 0);
        Assert.Equal(0, json.GetProperty("forged_dropped").GetInt64() + json.GetProperty("replays_dropped").GetInt64());
    }

    [Theory]
    [InlineData("--crypt", "aes", "--crypt")]
    [InlineData("--datashard", "10", "ParityShards")]
    public async Task CipherOrFecFlagsInvalid_UsageError(string flag, string value, string named)
    {
        var (code, _, error) = await CliRunner.RunAsync("multicast", "sub", "--group", "239.255.1.1:40000", flag, value);
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains(named, error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PubHistoryTimesDatagramOverTheBound_UsageErrorNotACrash()
    {
        var (code, _, error) = await CliRunner.RunAsync("multicast", "pub", "--group", "239.255.1.1:40000", "--history", "131072", "--datagram", "16384");
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("HistoryPackets", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GroupNotMulticast_UsageErrorNamingTheFlag()
    {
        var (code, _, error) = await CliRunner.RunAsync("multicast", "sub", "--group", "127.0.0.1:40000");
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("--group '127.0.0.1:40000' is not valid", error.Text, StringComparison.Ordinal);
    }

    private static (Task<int> Run, LineWriter Output) StartSub(string[] args)
    {
        var output = new LineWriter();
        var run = Task.Run(() => CliApp.RunAsync(args, new CliIo(output, new LineWriter(), null, false), null, CancellationToken.None));
        return (run, output);
    }
}
