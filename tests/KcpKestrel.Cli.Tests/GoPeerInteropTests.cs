using System.Text.Json;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

/// <summary>Our bench against kcp-go's server, and kcp-go's client against our serve: echo 4 MiB, aes + FEC 10/3.</summary>
public sealed class GoPeerInteropTests
{
    private static readonly string[] GoKcp = ["-crypt", "aes", "-key", "interop", "-datashard", "10", "-parityshard", "3"];
    private static readonly string[] OurKcp = ["--crypt", "aes", "--key", "interop", "--datashard", "10", "--parityshard", "3", "--mode", "fast3"];

    [Fact]
    public async Task OurBench_GoServer_Echoes()
    {
        await using var server = await GoPeer.StartServerAsync("echo", GoKcp);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", server.EndPoint.ToString(), "--workload", "echo", "--bytes", "4M", .. OurKcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal(4L << 20, json.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task GoClient_OurServe_Echoes()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", .. OurKcp]);
        using var client = GoPeer.Start(["-mode", "client", "-target", serve.Kcp.ToString(), "-workload", "echo", "-bytes", (4 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), "-timeout", "60s", .. GoKcp]);
        var line = await client.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(90));
        await client.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(line);
        using var json = JsonDocument.Parse(line);
        Assert.True(json.RootElement.GetProperty("ok").GetBoolean(), line + await client.StandardError.ReadToEndAsync());
        Assert.Equal(4L << 20, json.RootElement.GetProperty("bytes").GetInt64());
        Assert.True(json.RootElement.GetProperty("segments_sent").GetInt64() >= (4L << 20) / 1350, line);
        Assert.True(json.RootElement.GetProperty("retransmits").GetInt64() >= 0);
        Assert.Equal(0, client.ExitCode);
    }

    [Fact]
    public async Task OurHttpBench_GoHttpServer_AnswersEveryRequest()
    {
        await using var server = await GoPeer.StartServerAsync("http", GoKcp);
        var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", server.EndPoint.ToString(), "--workload", "http", "--count", "50", "--concurrency", "4", .. OurKcp]);
        var json = CliRunner.LastLineJson(output);
        Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
        Assert.Equal(0, code);
        Assert.Equal(50, json.GetProperty("requests").GetInt32());
    }

    [Fact]
    public async Task GoHttpClient_OurServe_AnswersEveryRequest()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "http", .. OurKcp]);
        using var client = GoPeer.Start(["-mode", "client", "-target", serve.Kcp.ToString(), "-workload", "http", "-count", "50", "-concurrency", "4", "-timeout", "60s", .. GoKcp]);
        var line = await client.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(90));
        await client.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(line);
        using var json = JsonDocument.Parse(line);
        Assert.True(json.RootElement.GetProperty("ok").GetBoolean(), line + await client.StandardError.ReadToEndAsync());

        // 50 bodies of "Hello, World!".
        Assert.Equal(50 * 13, json.RootElement.GetProperty("bytes").GetInt64());
        Assert.True(json.RootElement.GetProperty("rtt_p999_us").GetDouble() >= json.RootElement.GetProperty("rtt_p50_us").GetDouble());
        Assert.Equal(0, client.ExitCode);
    }
}
