using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

/// <summary>bench's smux client (--smux, --nocomp, --conn) and its http workload, against serve with smux.</summary>
public sealed class SmuxBenchTests
{
    private static readonly string[] Kcp = ["--crypt", "aes", "--key", "cli-test"];
    private static readonly string[] ServeSmux = ["--smux"];

    [Fact]
    public async Task Http_WithSmux_AllConnectionsShareOneKcpSession()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "http", .. ServeSmux, .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", serve.Kcp.ToString(), "--workload", "http", "--count", "300", "--concurrency", "16", "--smux", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal("http", json.GetProperty("workload").GetString());
        Assert.True(json.GetProperty("smux").GetBoolean());
        Assert.Equal(300, json.GetProperty("requests").GetInt32());
        Assert.Equal(1, json.GetProperty("kcp_sessions").GetInt32());
        Assert.True(json.GetProperty("requests_per_s").GetDouble() > 0);
        Assert.True(json.GetProperty("first_response_ms").GetDouble() > 0);
        Assert.True(json.GetProperty("rtt_p99_us").GetDouble() >= json.GetProperty("rtt_p50_us").GetDouble());
        Assert.Equal(300 * "Hello, World!".Length, json.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Http_ConnectionCloseWithSmux_EveryRequestOpensAStreamOnOneSession()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "http", .. ServeSmux, .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", serve.Kcp.ToString(), "--workload", "http", "--count", "60", "--concurrency", "4", "--connection-close", "--smux", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal(60, json.GetProperty("requests").GetInt32());
        Assert.Equal(60, json.GetProperty("dials").GetInt32());
        Assert.Equal(1, json.GetProperty("kcp_sessions").GetInt32());
        Assert.True(json.GetProperty("dial_p99_us").GetDouble() >= json.GetProperty("dial_p50_us").GetDouble());
    }

    [Fact]
    public async Task Echo_EightStreamsWithSmux_SplitOverOneSessionAndChecked()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", .. ServeSmux, .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", serve.Kcp.ToString(), "--workload", "echo", "--bytes", "1000003", "--streams", "8", "--smux", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal((1000003L, 8, 1), (json.GetProperty("bytes").GetInt64(), json.GetProperty("streams").GetInt32(), json.GetProperty("kcp_sessions").GetInt32()));
    }

    [Fact]
    public async Task Streams_WithPingPong_IsAUsageError()
    {
        var (code, _, error) = await CliRunner.RunAsync(["bench", "--tcp", "127.0.0.1:9", "--workload", "pingpong", "--streams", "2"]);
        Assert.Equal(2, code);
        Assert.Contains("--streams applies only", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_WithoutSmux_AKcpSessionPerHttpConnection()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "http", .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", serve.Kcp.ToString(), "--workload", "http", "--count", "300", "--concurrency", "8", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.False(json.GetProperty("smux").GetBoolean());
        Assert.InRange(json.GetProperty("kcp_sessions").GetInt32(), 2, 8);
    }

    [Fact]
    public async Task Http_OverTcp_ReportsNoKcpSessions()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "http", .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--tcp", serve.Tcp!.ToString(), "--workload", "http", "--count", "100"]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal(100, json.GetProperty("requests").GetInt32());
        Assert.False(json.TryGetProperty("kcp_sessions", out _));
    }

    [Fact]
    public async Task Echo_OverSmuxStreamWithoutCompression_Intact()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", "--smux", "--nocomp", "--smuxver", "2", .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", serve.Kcp.ToString(), "--workload", "echo", "--bytes", "2M", "--smux", "--nocomp", "--smuxver", "2", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal(2L << 20, json.GetProperty("bytes").GetInt64());
        Assert.Equal(1, json.GetProperty("kcp_sessions").GetInt32());
    }

    [Fact]
    public async Task Sessions_OverSmuxWithConnTwo_StreamsOnTwoKcpSessions()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", .. ServeSmux, .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", serve.Kcp.ToString(), "--workload", "sessions", "--sessions", "20", "--rate", "20", "--duration", "1", "--smux", "--conn", "2", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal(20, json.GetProperty("sessions").GetInt32());
        Assert.Equal(2, json.GetProperty("kcp_sessions").GetInt32());
    }

    [Fact]
    public async Task Bulk_SmuxCompressionMismatch_FailsWithTheReason()
    {
        // The server compresses (snappy), the client does not: the smux session breaks, and bench says so.
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "sink", .. ServeSmux, .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", serve.Kcp.ToString(), "--workload", "bulk", "--bytes", "1M", "--smux", "--nocomp", "--timeout", "20", .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.False(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(1, code);
        Assert.True(json.TryGetProperty("error", out _));
    }
}
