using System.Globalization;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// curl (the kernel's TCP, inside the test's namespace) against <c>serve --usertcp</c>: one thousand requests on one
/// kept-alive connection over HTTP/1.1, and HTTP/2 with prior knowledge. Needs root, iproute2 and curl.
/// </summary>
public sealed class CurlInteropTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Requests = 1000;

    [Fact]
    public async Task Http11_AThousandRequestsOnOneConnection_AllOk()
    {
        if (UserTcpInterop.Unavailable(curl: true) is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "http");

        var lines = await CurlAsync(ns, ["--http1.1"], $"http://{UserTcpServe.EndPoint}/plaintext");

        AssertEveryReply(lines, "1.1", "200", "Hello, World!");
        var report = await serve.StopAsync();
        Assert.Equal(1, UserTcpServe.Counter(report, "passiveOpens"));
    }

    [Fact]
    public async Task Http2PriorKnowledge_EachCurlAnsweredOverHttp2()
    {
        if (UserTcpInterop.Unavailable(curl: true) is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        // serve's grpc app is its HTTP/2-only (h2c) endpoint; a GET of a path no service maps is a plain 404 there.
        // One request per curl: curl 7.88 (Debian 12) fails its second request on a reused prior-knowledge
        // connection with "Error in the HTTP2 framing layer" against Kestrel on the kernel's TCP too, so the
        // thousand requests on one HTTP/2 connection are HttpClient's (HttpClientInteropTests).
        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "grpc");

        for (var i = 0; i < 20; i++)
        {
            var (code, stdout, stderr) = await ns.ExecAsync(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "20", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", $"http://{UserTcpServe.EndPoint}/nothing-here");
            Assert.True(code == 0, $"curl exited with {code}: {stderr}");
            Assert.Equal("2 404", stdout.Trim());
        }

        var report = await serve.StopAsync();
        Assert.Equal(20, UserTcpServe.Counter(report, "passiveOpens"));
    }

    /// <summary>Runs one curl with <see cref="Requests"/> copies of <paramref name="url"/>; one <c>#</c> line per reply.</summary>
    private static async Task<List<string>> CurlAsync(NetNamespace ns, string[] flags, string url)
    {
        // Each reply: its body, then "#<version> <status> <connects>" on a line of its own.
        string[] args = ["curl", "-sS", "--max-time", "120", .. flags, "-w", "\\n#%{http_version} %{http_code} %{num_connects}\\n"];
        var (code, stdout, stderr) = await ns.ExecAsync(TimeSpan.FromSeconds(150), [.. args, .. Enumerable.Repeat(url, Requests)]);
        Assert.True(code == 0, $"curl exited with {code}: {stderr}");
        return [.. stdout.Split('\n')];
    }

    private static void AssertEveryReply(List<string> lines, string version, string status, string body)
    {
        var replies = 0;
        var connects = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            if (!lines[i].StartsWith('#'))
            {
                continue;
            }

            var parts = lines[i][1..].Split(' ');
            Assert.Equal(version, parts[0]);
            Assert.Equal(status, parts[1]);
            connects += int.Parse(parts[2], CultureInfo.InvariantCulture);
            if (body.Length > 0)
            {
                Assert.Equal(body, lines[i - 1]);
            }

            replies++;
        }

        Assert.Equal(Requests, replies);
        Assert.Equal(1, connects);
    }
}
