using System.Text.Json;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

/// <summary>
/// <c>multicast bench</c>: small counts on loopback, each test on a random group and port; the JSON fields are
/// checked, never the speed (that is benchmarks/multicast/compare.sh's job).
/// </summary>
public sealed class MulticastBenchTests
{
    private static readonly string[] ThroughputFields =
    [
        "workload", "subscribers", "messages", "size", "seconds", "msg_per_s", "cpu_s", "retransmits", "naks_served",
        "sub_msg_per_s_min", "sub_cpu_s_mean", "lost", "duplicates", "reordered", "naks_sent",
    ];

    private static readonly string[] SubscriberFields =
        ["received", "in_order", "duplicates", "reordered", "lost", "checksum_ok", "seconds", "msg_per_s", "naks_sent", "cpu_s"];

    private static readonly string[] PingPongFields =
        ["workload", "round_trips", "rtt_us_p50", "rtt_us_p90", "rtt_us_p99", "rtt_us_p999", "rtt_us_max", "rtt_us_mean", "cpu_s"];

    [Fact]
    public async Task BenchThroughput_TwoSubscriberProcesses_JsonLineWithEverySubscribersFigures()
    {
        var (code, output, error) = await CliRunner.RunAsync(
            [.. Bench("throughput"), "--subscribers", "2", "--count", "5000", "--seconds", "60"]);

        Assert.True(code == 0, error.Text);
        var json = CliRunner.LastLineJson(output);
        AssertHasFields(json, ThroughputFields);
        Assert.Equal("throughput", json.GetProperty("workload").GetString());
        Assert.Equal(5000, json.GetProperty("messages").GetInt64());
        Assert.Equal(70, json.GetProperty("size").GetInt32());
        Assert.Equal(0, json.GetProperty("lost").GetInt64());
        var subs = json.GetProperty("subs");
        Assert.Equal(2, subs.GetArrayLength());
        foreach (var sub in subs.EnumerateArray())
        {
            AssertHasFields(sub, SubscriberFields);
            Assert.Equal(5000, sub.GetProperty("in_order").GetInt64());
        }
    }

    [Fact]
    public async Task BenchThroughput_TuningFlags_ForwardedToEverySubscriberProcess()
    {
        var (code, output, error) = await CliRunner.RunAsync(
            [.. Bench("throughput"), "--count", "2000", "--window", "512", "--busy-poll", "--drop", "0.05", "--seed", "9", "--seconds", "60"]);

        Assert.True(code == 0, error.Text);
        var starts = error.Lines.Where(l => l.StartsWith("starting: multicast sub ", StringComparison.Ordinal)).ToList();
        var start = Assert.Single(starts);
        foreach (var expected in new[] { "--count 2000", "--topic 5", "--interface 127.0.0.1", "--window 512", "--busy-poll", "--drop 0.05 --seed 9" })
        {
            Assert.Contains(expected, start, StringComparison.Ordinal);
        }

        Assert.Equal(0, CliRunner.LastLineJson(output).GetProperty("lost").GetInt64());
    }

    [Fact]
    public async Task BenchPingPong_SmallCount_JsonLineWithPercentiles()
    {
        var (code, output, error) = await CliRunner.RunAsync([.. Bench("pingpong"), "--count", "300", "--size", "100", "--seconds", "60"]);

        Assert.True(code == 0, error.Text);
        var json = CliRunner.LastLineJson(output);
        AssertHasFields(json, PingPongFields);
        Assert.Equal(300, json.GetProperty("round_trips").GetInt64());
        Assert.True(json.GetProperty("rtt_us_p50").GetDouble() <= json.GetProperty("rtt_us_p999").GetDouble());
        Assert.True(json.GetProperty("rtt_us_p999").GetDouble() <= json.GetProperty("rtt_us_max").GetDouble());
    }

    [Fact]
    public async Task BenchPingPong_ErrorIsTerminal_ProgressOnStderrAndJsonStillLastOnStdout()
    {
        var output = new LineWriter();
        var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        var code = await CliApp.RunAsync(
            [.. Bench("pingpong"), "--count", "300", "--seconds", "60"], new CliIo(output, error, null, false, ErrorIsTerminal: true), null, timeout.Token);

        Assert.Equal(0, code);
        Assert.Contains("\rpingpong: ", error.ToString(), StringComparison.Ordinal);
        Assert.Single(output.Lines);
        AssertHasFields(CliRunner.LastLineJson(output), PingPongFields);
    }

    [Fact]
    public async Task BenchPingPong_OutputRedirected_NoProgressLineAnywhere()
    {
        // A process of its own: its standard output and error are pipes, as in a script.
        var (code, output, error) = await CliProcess.RunAsync(TimeSpan.FromSeconds(90), [.. Bench("pingpong"), "--count", "300", "--seconds", "60"]);

        Assert.True(code == 0, error);
        Assert.DoesNotContain('\r', error);
        Assert.DoesNotContain("NAKs", error, StringComparison.Ordinal);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        using var json = JsonDocument.Parse(lines[0]);
        AssertHasFields(json.RootElement, PingPongFields);
    }

    [Theory]
    [InlineData("firehose", "--count", "1", "--workload 'firehose' is not valid; accepted: throughput, pingpong.")]
    [InlineData("throughput", "--window", "8", "--window '8' is not valid; accepted: a whole number from 16 to 1048576.")]
    [InlineData("throughput", "--subscribers", "0", "--subscribers '0' is not valid; accepted: a whole number from 1 to 64.")]
    [InlineData("throughput", "--drop", "0.9", "--drop '0.9' is not valid; accepted: a probability from 0 to 0.5.")]
    public async Task Bench_FlagOutOfRange_UsageErrorNamingFlagAndRange(string workload, string flag, string value, string message)
    {
        var (code, _, error) = await CliRunner.RunAsync([.. Bench(workload), flag, value]);

        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains(message, error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchPingPong_WithSubscribers_UsageErrorSayingItIsForThroughput()
    {
        var (code, _, error) = await CliRunner.RunAsync([.. Bench("pingpong"), "--subscribers", "3"]);

        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("--subscribers and --drop apply to --workload throughput only.", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubWindowTooSmall_UsageErrorNamingTheFlag()
    {
        var (code, _, error) = await CliRunner.RunAsync("multicast", "sub", "--group", RandomGroup(), "--window", "1");

        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("--window '1' is not valid", error.Text, StringComparison.Ordinal);
    }

    private static string[] Bench(string workload) =>
        ["multicast", "bench", "--workload", workload, "--group", RandomGroup(), "--interface", "127.0.0.1", "--topic", "5"];

    private static string RandomGroup() =>
        $"239.255.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}:{Random.Shared.Next(41000, 49000)}";

    private static void AssertHasFields(JsonElement json, IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            Assert.True(json.TryGetProperty(name, out _), $"no \"{name}\" in {json}");
        }
    }
}
