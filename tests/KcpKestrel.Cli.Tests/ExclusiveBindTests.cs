using KcpKestrel.Cli.Commands;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

/// <summary>
/// A second <c>serve</c> on a port the first holds (KCP or TCP) refuses to start, with Kestrel's
/// address-in-use message and a non-zero exit, instead of sharing the port; the first keeps serving.
/// </summary>
public sealed class ExclusiveBindTests
{
    private static readonly string[] Kcp = ["--crypt", "aes", "--key", "cli-test"];

    [Theory]
    [InlineData("kcp")]
    [InlineData("tcp")]
    public async Task SecondServeProcess_OnATakenPort_ExitsNonZeroWithAddressInUse_AndTheFirstKeepsServing(string taken)
    {
        await using var first = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", .. Kcp]);
        var held = taken == "kcp" ? first.Kcp : first.Tcp!;
        string[] ports = taken == "kcp"
            ? ["--kcp", held.ToString(), "--tcp", "127.0.0.1:0"]
            : ["--kcp", "127.0.0.1:0", "--tcp", held.ToString()];

        var (code, output, error) = await CliProcess.RunAsync(TimeSpan.FromSeconds(60), ["serve", .. ports, .. Kcp]);

        Assert.NotNull(code);
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("listening", output, StringComparison.Ordinal);
        var scheme = taken == "kcp" ? "http://kcp://" : "http://";
        Assert.Contains($"kcpkestrel: Failed to bind to address {scheme}{held}: address already in use.", error, StringComparison.Ordinal);

        foreach (var transport in new[] { "kcp", "tcp" })
        {
            var target = transport == "kcp" ? first.Kcp : first.Tcp!;
            var (benchCode, bench, _) = await CliRunner.RunAsync(["bench", $"--{transport}", target.ToString(), "--workload", "echo", "--bytes", "64K", .. Kcp]);
            Assert.True(CliRunner.LastLineJson(bench).GetProperty("ok").GetBoolean(), bench.Text);
            Assert.Equal(0, benchCode);
        }

        Assert.Equal(0, await first.StopAsync());
    }

    [Fact]
    public async Task SecondServe_OnTheKcpPort_PrintsOneLineAndExitsWithTheAddressInUseCode()
    {
        await using var first = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", .. Kcp]);
        var (code, output, error) = await CliRunner.RunAsync(["serve", "--kcp", first.Kcp.ToString(), .. Kcp]);
        Assert.Equal(ServeCommand.AddressInUseExitCode, code);
        Assert.Empty(output.Lines);
        Assert.Contains($"kcpkestrel: Failed to bind to address http://kcp://{first.Kcp}: address already in use.", error.Lines);
    }
}
