using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests.KcptunInterop;

/// <summary>kcptun-client at its defaults → our <c>serve --smux --app http</c>: curl through kcptun's local port gets the app.</summary>
public sealed class KcptunToServeHttpTests
{
    [Theory]
    [InlineData(new string[0], new string[0])]
    [InlineData(new[] { "--smuxver", "2", "--nocomp" }, new[] { "--smuxver", "2", "--nocomp" })]
    public async Task Curl_ThroughKcptunClient_GetsTheApp(string[] serveFlags, string[] kcptunFlags)
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "http", "--smux", .. serveFlags]);
        await using var client = await Kcptun.StartClientAsync(serve.Kcp, ["--quiet", .. kcptunFlags]);
        var url = $"http://{client.EndPoint}";

        // Three requests, each a TCP connection of curl's own, so three smux streams on kcptun's one session.
        for (var i = 0; i < 3; i++)
        {
            var (code, body, error) = await Curl("--silent", "--show-error", "--max-time", "10", $"{url}/plaintext");
            Assert.True(code == 0, $"curl failed: {error}\nkcptun: {client.Log}");
            Assert.Equal("Hello, World!", body);
        }

        var (postCode, echoed, postError) = await Curl("--silent", "--show-error", "--max-time", "10", "--data-binary", "through kcptun", $"{url}/echo");
        Assert.True(postCode == 0, postError);
        Assert.Equal("through kcptun", echoed);
    }

    private static async Task<(int Code, string Out, string Error)> Curl(params string[] args)
    {
        if (!File.Exists("/usr/bin/curl"))
        {
            throw new InvalidOperationException("curl is not installed: apt-get install curl (.ci/run does it).");
        }

        return await TestProcess.RunAsync(TestProcess.StartInfo("/usr/bin/curl", args), TestWaits.Bound);
    }
}
