using System.Net.Http;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

public sealed class ServeBenchTests
{
    private static readonly string[] Kcp = ["--crypt", "aes", "--key", "cli-test", "--datashard", "10", "--parityshard", "3", "--mode", "fast3"];

    [Fact]
    public async Task Serve_PrintsOneReadyLineWithTheBoundPorts_AndStopsCleanly()
    {
        var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", .. Kcp]);

        // No --instance-id: <hostname>-<pid>.
        Assert.Matches(@"^listening kcp=127\.0\.0\.1:\d+ tcp=127\.0\.0\.1:\d+ instance=\S+$", serve.ReadyLine);
        Assert.EndsWith($" instance={Environment.MachineName}-{Environment.ProcessId}", serve.ReadyLine, StringComparison.Ordinal);
        Assert.NotEqual(0, serve.Kcp.Port);
        Assert.Equal(0, await serve.StopAsync());
        Assert.Equal(2, serve.Out.Lines.Count);
        Assert.StartsWith($"{{\"event\":\"stopped\",\"instance\":\"{Environment.MachineName}-{Environment.ProcessId}\",\"kcp\":", serve.Out.Lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kcp")]
    [InlineData("tcp")]
    public async Task Echo_ComesBackWithTheSameSha256(string transport)
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo", .. Kcp]);
        var target = transport == "kcp" ? serve.Kcp : serve.Tcp!;
        var (code, output, _) = await CliRunner.RunAsync(["bench", $"--{transport}", target.ToString(), "--workload", "echo", "--bytes", "2M", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal("echo", json.GetProperty("workload").GetString());
        Assert.Equal(2L << 20, json.GetProperty("bytes").GetInt64());
        Assert.Equal(0, json.GetProperty("errors").GetInt32());
        Assert.True(json.GetProperty("mb_per_s").GetDouble() > 0);
        Assert.True(json.TryGetProperty("rtt_p50_us", out _));
        Assert.True(json.TryGetProperty("seconds", out _));
        Assert.True(json.GetProperty("connect_ms").GetDouble() > 0);
    }

    [Theory]
    [InlineData("sockets", "tcp engine=sockets")]
    [InlineData("epoll", "tcp engine=epoll")]
    [InlineData("iouring", "tcp engine=")]
    [InlineData("iouring --tcp-architecture reactor --tcp-workers 2", "tcp engine=")]
    public async Task TcpEngine_EchoesOverTcp_AndSaysWhichEngineRuns(string flags, string expected)
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo", "--tcp-engine", .. flags.Split(' '), .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--tcp", serve.Tcp!.ToString(), "--workload", "echo", "--bytes", "1M"]);
        Assert.True(CliRunner.LastLineJson(output).GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);

        // io_uring may be refused here (then: epoll, after a logged warning); either way one line says what runs.
        var line = Assert.Single(serve.Error.Lines, l => l.StartsWith("kcpkestrel: tcp engine=", StringComparison.Ordinal));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Matches(flags.StartsWith("iouring", StringComparison.Ordinal) ? "engine=(iouring|epoll)" : "engine=" + flags, line);
        if (flags.Contains("reactor", StringComparison.Ordinal) && line.Contains("engine=iouring", StringComparison.Ordinal))
        {
            Assert.Contains("architecture=reactor workers=2", line, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("kcp")]
    [InlineData("tcp")]
    public async Task Bulk_EndsWhenTheSinkReportsEveryByte(string transport)
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "sink", .. Kcp]);
        var target = transport == "kcp" ? serve.Kcp : serve.Tcp!;
        var (code, output, _) = await CliRunner.RunAsync(["bench", $"--{transport}", target.ToString(), "--workload", "bulk", "--bytes", "3000000", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal(3000000, json.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task PingPong_MeasuresEveryRoundTrip()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", serve.Kcp.ToString(), "--workload", "pingpong", "--count", "100", "--size", "100", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal(100 * 100 * 2, json.GetProperty("bytes").GetInt64());
        var p50 = json.GetProperty("rtt_p50_us").GetDouble();
        var p99 = json.GetProperty("rtt_p99_us").GetDouble();
        Assert.True(p50 > 0 && p50 <= p99);
        Assert.True(p99 <= json.GetProperty("rtt_p999_us").GetDouble());

        // Each ping is a segment out, each reply a segment acknowledged: at least 2 per round trip.
        Assert.True(json.GetProperty("segments_sent").GetInt64() >= 200, output.Text);
        Assert.True(json.GetProperty("retransmits").GetInt64() >= 0);
    }

    [Fact]
    public async Task Sessions_RunConcurrently()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", serve.Kcp.ToString(), "--workload", "sessions", "--sessions", "8", "--rate", "20", "--duration", "1", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal(8, json.GetProperty("sessions").GetInt32());
        Assert.True(json.GetProperty("bytes").GetInt64() > 0);

        // Nothing ended: the redial figures are there, all zero, and every session counts as kept.
        foreach (var field in new[] { "ended", "ended_eof", "ended_error", "ended_timeout", "redialed", "failed" })
        {
            Assert.Equal(0, json.GetProperty(field).GetInt32());
        }

        Assert.Equal((0.0, 0.0), (json.GetProperty("redial_p50_ms").GetDouble(), json.GetProperty("redial_max_ms").GetDouble()));
        Assert.Equal(json.GetProperty("rtt_p99_us").GetDouble(), json.GetProperty("kept_rtt_p99_us").GetDouble());
        Assert.Equal(8, json.GetProperty("dial_attempts").GetInt32());
    }

    [Fact]
    public async Task BenchAgainstNothing_ReportsFailureInJson_AndExitsNonZero()
    {
        var (code, output, _) = await CliRunner.RunAsync("bench", "--tcp", "127.0.0.1:1", "--workload", "pingpong", "--count", "1");
        var json = CliRunner.LastLineJson(output);
        Assert.False(json.GetProperty("ok").GetBoolean());
        Assert.Equal(1, json.GetProperty("errors").GetInt32());
        Assert.NotEqual(0, code);
    }

    [Fact]
    public async Task HttpApp_ServesPlaintextAndEchoOverTcp()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "http", .. Kcp]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{serve.Tcp}") };
        using var plain = await http.GetAsync(new Uri("/plaintext", UriKind.Relative));
        Assert.Equal("Hello, World!", await plain.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", plain.Content.Headers.ContentType?.MediaType);
        using var body = new ByteArrayContent([1, 2, 3, 4, 5]);
        using var echo = await http.PostAsync(new Uri("/echo", UriKind.Relative), body);
        Assert.Equal([1, 2, 3, 4, 5], await echo.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task UdpBlast_MeasuresTheCeiling()
    {
        var (code, output, _) = await CliRunner.RunAsync("bench", "--workload", "udpblast", "--duration", "0.5");
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.True(json.GetProperty("bytes").GetInt64() > 0);
    }
}
