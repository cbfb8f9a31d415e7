using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

/// <summary>serve --app grpc (a unary gRPC echo over h2c) and bench --workload grpc, over KCP, KCP with smux, and TCP.</summary>
public sealed class ServeGrpcTests
{
    private static readonly string[] Kcp = ["--crypt", "aes", "--key", "cli-test", "--datashard", "10", "--parityshard", "3", "--mode", "fast3"];

    [Theory]
    [InlineData("kcp", "")]
    [InlineData("kcp", "--smux")]
    [InlineData("tcp", "")]
    public async Task GrpcBench_EveryCallEchoed_OverOneConnection(string transport, string smux)
    {
        string[] extra = smux.Length == 0 ? [] : [smux];
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "grpc", .. extra, .. Kcp]);
        var target = transport == "kcp" ? serve.Kcp : serve.Tcp!;

        // 1,500-byte payloads span two KCP segments; the bench compares every reply with its request.
        var (code, output, _) = await CliRunner.RunAsync(["bench", $"--{transport}", target.ToString(), "--workload", "grpc", "--count", "200", "--concurrency", "8", "--size", "1500", "--timeout", "30", .. extra, .. Kcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal("grpc", json.GetProperty("workload").GetString());
        Assert.Equal(transport, json.GetProperty("transport").GetString());
        Assert.Equal(0, json.GetProperty("errors").GetInt32());
        Assert.Equal(200, json.GetProperty("requests").GetInt32());
        Assert.Equal(200L * 1500, json.GetProperty("bytes").GetInt64());

        // A gRPC channel multiplexes its calls over one HTTP/2 connection: one dial.
        Assert.Equal(1, json.GetProperty("dials").GetInt32());
        var p50 = json.GetProperty("rtt_p50_us").GetDouble();
        Assert.True(p50 > 0 && p50 <= json.GetProperty("rtt_p99_us").GetDouble() && json.GetProperty("rtt_p99_us").GetDouble() <= json.GetProperty("rtt_p999_us").GetDouble(), output.Text);
    }

    [Fact]
    public async Task GrpcBench_AgainstAnHttp1App_FailsInJson()
    {
        // serve --app http speaks HTTP/1.1 only: a gRPC call (HTTP/2 prior knowledge) must fail, not hang.
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "http", .. Kcp]);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--tcp", serve.Tcp!.ToString(), "--workload", "grpc", "--count", "5", "--timeout", "20"]);
        var json = CliRunner.LastLineJson(output);
        Assert.False(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.NotEqual(0, code);
        Assert.True(json.GetProperty("errors").GetInt32() >= 1);
    }
}
