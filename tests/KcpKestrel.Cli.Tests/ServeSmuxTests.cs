using System.Text;
using System.Text.Json;
using KcpKestrel.Cli.Tests.Infrastructure;
using KcpKestrel.Protocols.Snappy;
using KcpKestrel.Smux;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;

namespace KcpKestrel.Cli.Tests;

/// <summary><c>serve --smux</c>: the app on every smux stream, reached by xtaci's stack as kcptun's client runs it.</summary>
public sealed class ServeSmuxTests
{
    private const string Key = "cli-smux";
    private static readonly string[] OurKcp = ["--crypt", "aes", "--key", Key, "--datashard", "10", "--parityshard", "3"];

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public async Task ServeSmuxEcho_XtaciClientStreams_EchoedAndReported(int version, bool compress)
    {
        string[] comp = compress ? [] : ["--nocomp"];
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", "--smux", "--smuxver", $"{version}", .. comp, .. OurKcp]);

        var result = await GoSmuxPeer.RunClientAsync(serve.Kcp, version, 16, 128 << 10, GoSmuxPeer.KcpFlags(Key, 10, 3, compress));
        Assert.True(result.Ok, result.Error);

        Assert.Equal(0, await serve.StopAsync());
        using var report = JsonDocument.Parse(serve.Out.Lines.Single(l => l.Contains("\"stopped\"", StringComparison.Ordinal)));
        var smux = report.RootElement.GetProperty("smux");
        Assert.Equal(16, smux.GetProperty("streamsAccepted").GetInt64());
        Assert.Equal(1, smux.GetProperty("sessions").GetInt64());
        Assert.Equal(0, smux.GetProperty("protocolErrors").GetInt64());
    }

    [Fact]
    public async Task ServeSmuxHttp_RequestsOnThreeStreams_Answered()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "http", "--smux", .. OurKcp]);
        var options = new KcpClientOptions { ConnectTimeout = TimeSpan.FromSeconds(5) };
        options.Kcp.Crypt = "aes";
        options.Kcp.Key = Key;
        options.Kcp.DataShards = 10;
        options.Kcp.ParityShards = 3;
        await using var factory = new KcpConnectionFactory(options);
        var connection = await factory.ConnectAsync(new KcpEndPoint(serve.Kcp));
        var snappy = new SnappyDuplexPipe(connection.Transport);
        var session = new SmuxSession(snappy, isClient: true);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var stream = await session.OpenStreamAsync();
                await stream.Output.WriteAsync(Encoding.ASCII.GetBytes("GET /plaintext HTTP/1.1\r\nHost: kcp\r\nConnection: close\r\n\r\n"));
                var response = Encoding.ASCII.GetString(await TestWaits.ReadToEndAsync(stream.Input).WaitAsync(TestWaits.Bound));
                Assert.StartsWith("HTTP/1.1 200 OK", response, StringComparison.Ordinal);
                Assert.EndsWith("Hello, World!", response, StringComparison.Ordinal);
            }
        }
        finally
        {
            await session.DisposeAsync();
            await snappy.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
