using System.Buffers.Binary;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using KcpKestrel.Cli.Commands;
using KcpKestrel.Cli.Serve;
using KcpKestrel.Cli.Tests.Infrastructure;
using KcpKestrel.Protocols.Snappy;
using KcpKestrel.Smux;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Tests;

/// <summary>
/// serve's drain (issue #22): on a stop, /healthz turns 503 at once while serve keeps serving for --drain-delay,
/// then each session is asked to close and ends with KCP's close signal: clients read end-of-stream.
/// </summary>
public sealed class ServeDrainTests
{
    private const string Key = "cli-drain";
    private static readonly string[] Kcp = ["--crypt", "aes", "--key", Key];

    [Fact]
    public async Task StopWithDrainDelay_HealthIs503WhileEchoesWork_ThenEverySessionEndsWithEndOfStream()
    {
        const int Sessions = 4;
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--health", "127.0.0.1:0", "--drain-delay", "3", "--instance-id", "drain-a", .. Kcp]);
        Assert.Matches(@"^listening kcp=127\.0\.0\.1:\d+ health=127\.0\.0\.1:\d+ instance=drain-a$", serve.ReadyLine);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{CliRunner.Endpoint(serve.ReadyLine, "health")}"), Timeout = TestWaits.Bound };
        await using var client = CreateClient();
        var connections = new List<ConnectionContext>();
        try
        {
            for (var i = 0; i < Sessions; i++)
            {
                connections.Add(await client.ConnectAsync(new KcpEndPoint(serve.Kcp)));
                await EchoAsync(connections[i], 1000 + i);
            }

            var (status, ready) = await GetHealthAsync(http);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("Healthy", ready.GetProperty("status").GetString());
            Assert.Equal("drain-a", ready.GetProperty("instance").GetString());
            Assert.False(ready.GetProperty("draining").GetBoolean());
            Assert.Equal(Sessions, ready.GetProperty("sessions").GetInt32());
            Assert.Equal(Sessions, ready.GetProperty("sessionsAccepted").GetInt64());
            Assert.Equal(0, ready.GetProperty("sessionsClosed").GetInt64());

            // SIGINT's path; the stop runs on while the drain delay lasts.
            var stop = serve.StopAsync();
            JsonElement draining = default;
            await TestWaits.WaitUntilAsync(
                async () =>
                {
                    (status, draining) = await GetHealthAsync(http);
                    return status == HttpStatusCode.ServiceUnavailable;
                },
                "/healthz to answer 503");
            Assert.True(draining.GetProperty("draining").GetBoolean());
            Assert.Equal("Unhealthy", draining.GetProperty("status").GetString());
            Assert.Equal(Sessions, draining.GetProperty("sessions").GetInt32());

            // Unready, not closed: the open sessions echo on, and a new client still gets a session.
            foreach (var connection in connections)
            {
                await EchoAsync(connection, 500);
            }

            connections.Add(await client.ConnectAsync(new KcpEndPoint(serve.Kcp)));
            await EchoAsync(connections[^1], 500);
            Assert.False(stop.IsCompleted, "serve stopped before its drain delay ran out");

            // Then Kestrel stops: each session is asked to close and ends with the close signal.
            foreach (var connection in connections)
            {
                Assert.Empty(await TestWaits.ReadToEndAsync(connection.Transport.Input).WaitAsync(TestWaits.Bound));
                Assert.Equal(KcpCloseReason.RemoteClose, connection.Features.Get<IKcpSessionFeature>()!.CloseReason);
            }

            Assert.Equal(0, await stop.WaitAsync(TestWaits.Bound));
            using var report = JsonDocument.Parse(serve.Out.Lines[^1]);
            Assert.Equal("drain-a", report.RootElement.GetProperty("instance").GetString());
            var kcp = report.RootElement.GetProperty("kcp");
            Assert.Equal(Sessions + 1, kcp.GetProperty("sessionsAccepted").GetInt64());
            Assert.Equal(Sessions + 1, kcp.GetProperty("sessionsClosed").GetInt64());
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task EchoAcknowledgedJustBeforeTheStop_IsEchoedInFull_ThenEndOfStream()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", .. Kcp]);
        await using var client = CreateClient();
        var connection = await client.ConnectAsync(new KcpEndPoint(serve.Kcp));
        try
        {
            var payload = Payload(256 << 10);
            await connection.Transport.Output.WriteAsync(payload);

            // Accepted: KCP acknowledged every byte, so serve holds it; from here it must not be lost.
            var session = connection.Features.Get<IKcpSessionFeature>()!;
            await TestWaits.WaitUntilAsync(
                () => session.GetStatistics() is { InFlight: 0, SendQueue: 0 } sent && sent.BytesSent == payload.Length,
                "serve to acknowledge the payload");
            var stop = serve.StopAsync();

            Assert.Equal(payload, await TestWaits.ReadToEndAsync(connection.Transport.Input).WaitAsync(TestWaits.Bound));
            Assert.Equal(KcpCloseReason.RemoteClose, session.CloseReason);
            Assert.Equal(0, await stop.WaitAsync(TestWaits.Bound));
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("echo")]
    [InlineData("sink")]
    public async Task OpenSession_EndsOnKestrelsCloseRequest_LongBeforeKestrelWouldAbortIt(string app)
    {
        var options = new KcpOptions { Crypt = "aes", Key = Key, IoLoopCount = 1 };
        await using var host = await ServeHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), null, app, options, TcpServeOptions.Default, CancellationToken.None);
        await using var client = CreateClient();
        var connection = await client.ConnectAsync(new KcpEndPoint(host.KcpEndPoint!));
        try
        {
            var payload = Payload(10_000);
            await connection.Transport.Output.WriteAsync(payload);
            if (app == "echo")
            {
                Assert.Equal(payload, await TestWaits.ReadExactlyAsync(connection.Transport.Input, payload.Length));
            }
            else
            {
                await TestWaits.WaitUntilAsync(() => host.KcpCounters().BytesReceived > payload.Length, "the sink to receive the payload");
            }

            // Kestrel aborts connections still open when the stop's timeout runs out: give it ten minutes, so
            // ending within the bound means the app ended its side when Kestrel asked it to close.
            await host.DrainAndStopAsync(TimeSpan.Zero, TimeSpan.FromMinutes(10)).WaitAsync(TestWaits.Bound);
            var rest = await TestWaits.ReadToEndAsync(connection.Transport.Input).WaitAsync(TestWaits.Bound);
            Assert.Equal(KcpCloseReason.RemoteClose, connection.Features.Get<IKcpSessionFeature>()!.CloseReason);
            if (app == "sink")
            {
                // Its reports, the last of them the whole payload.
                Assert.True(rest.Length >= 8 && rest.Length % 8 == 0, $"{rest.Length} bytes of reports");
                Assert.Equal((ulong)payload.Length, BinaryPrimitives.ReadUInt64LittleEndian(rest.AsSpan(rest.Length - 8)));
            }
            else
            {
                Assert.Empty(rest);
            }

            Assert.Equal(1, host.KcpCounters().SessionsClosed);
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task SmuxStream_EndsOnKestrelsCloseRequest_AndItsSessionWithTheCloseSignal()
    {
        var options = new KcpOptions { Crypt = "aes", Key = Key, IoLoopCount = 1, Multiplexing = KcpMultiplexing.Smux, Compression = KcpCompression.Snappy };
        await using var host = await ServeHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), null, "echo", options, TcpServeOptions.Default, CancellationToken.None);
        await using var client = CreateClient();
        var connection = await client.ConnectAsync(new KcpEndPoint(host.KcpEndPoint!));
        var snappy = new SnappyDuplexPipe(connection.Transport);
        var session = new SmuxSession(snappy, isClient: true);
        try
        {
            var stream = await session.OpenStreamAsync();
            var payload = Payload(10_000);
            await stream.Output.WriteAsync(payload);
            Assert.Equal(payload, await TestWaits.ReadExactlyAsync(stream.Input, payload.Length));

            await host.DrainAndStopAsync(TimeSpan.Zero, TimeSpan.FromMinutes(10)).WaitAsync(TestWaits.Bound);
            Assert.Empty(await TestWaits.ReadToEndAsync(stream.Input).WaitAsync(TestWaits.Bound));
            await TestWaits.WaitUntilAsync(() => connection.Features.Get<IKcpSessionFeature>()!.CloseReason != KcpCloseReason.None, "the KCP session to end");
            Assert.Equal(KcpCloseReason.RemoteClose, connection.Features.Get<IKcpSessionFeature>()!.CloseReason);
        }
        finally
        {
            await session.DisposeAsync();
            await snappy.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sigterm_WithDrainDelay_AnswersUnreadyWhileServing_ThenEndsTheSessionAndExitsZero()
    {
        using var process = CliProcess.Start(["serve", "--kcp", "127.0.0.1:0", "--health", "127.0.0.1:0", "--drain-delay", "3", "--instance-id", "sigterm-drain", .. Kcp]);
        await using var client = CreateClient();
        ConnectionContext? connection = null;
        try
        {
            var error = process.StandardError.ReadToEndAsync();
            var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotNull(ready);
            using var http = new HttpClient { BaseAddress = new Uri($"http://{CliRunner.Endpoint(ready, "health")}"), Timeout = TestWaits.Bound };
            connection = await client.ConnectAsync(new KcpEndPoint(CliRunner.Endpoint(ready, "kcp")));
            await EchoAsync(connection, 1000);
            Assert.Equal(HttpStatusCode.OK, (await GetHealthAsync(http)).Status);

            await CliProcess.SignalAsync(process, "TERM");
            await TestWaits.WaitUntilAsync(async () => (await GetHealthAsync(http)).Status == HttpStatusCode.ServiceUnavailable, "/healthz to answer 503");
            await EchoAsync(connection, 1000);

            Assert.Empty(await TestWaits.ReadToEndAsync(connection.Transport.Input).WaitAsync(TestWaits.Bound));
            var rest = await process.StandardOutput.ReadToEndAsync().WaitAsync(TestWaits.Bound);
            await process.WaitForExitAsync().WaitAsync(TestWaits.Bound);
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await error}");
            using var report = JsonDocument.Parse(rest.Trim());
            Assert.Equal("sigterm-drain", report.RootElement.GetProperty("instance").GetString());
            Assert.Equal(1, report.RootElement.GetProperty("kcp").GetProperty("sessionsClosed").GetInt64());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(new[] { "--drain-delay", "-1" }, "--drain-delay '-1' is not valid; accepted: seconds from 0 to 3600.")]
    [InlineData(new[] { "--drain-delay", "soon" }, "--drain-delay 'soon' is not valid; accepted: seconds from 0 to 3600.")]
    [InlineData(new[] { "--drain-delay", "3601" }, "--drain-delay '3601' is not valid; accepted: seconds from 0 to 3600.")]
    [InlineData(new[] { "--instance-id", "a b" }, "--instance-id 'a b' is not valid; accepted: 1 to 128 characters: letters, digits, '.', '_', '-' or ':'.")]
    [InlineData(new[] { "--instance-id", "" }, "--instance-id '' is not valid")]
    [InlineData(new[] { "--health", "nowhere" }, "--health: 'nowhere' has no port")]
    public async Task BadDrainFlags_ExitWithTwo_AndNameTheFlag(string[] flags, string expected)
    {
        var (code, output, error) = await CliRunner.RunAsync(["serve", "--kcp", "127.0.0.1:0", .. flags]);
        Assert.Equal(2, code);
        Assert.Empty(output.Lines);
        Assert.Contains(expected, error.Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void DrainDelay_LengthensTheTimeAfterASignal_ForServeOnly()
    {
        var root = CliApp.BuildRoot(new CliIo(TextWriter.Null, TextWriter.Null, null, false));
        Assert.Equal(TimeSpan.FromSeconds(2.5), ServeCommand.DrainDelay(root.Parse(["serve", "--kcp", "127.0.0.1:0", "--drain-delay", "2.5"])));
        Assert.Equal(TimeSpan.Zero, ServeCommand.DrainDelay(root.Parse(["serve", "--kcp", "127.0.0.1:0"])));
        Assert.Equal(TimeSpan.Zero, ServeCommand.DrainDelay(root.Parse(["bench", "--kcp", "127.0.0.1:1", "--workload", "echo"])));
    }

    private static KcpConnectionFactory CreateClient()
    {
        var options = new KcpClientOptions { ConnectTimeout = TimeSpan.FromSeconds(5), IoLoopCount = 1 };
        options.Kcp.Crypt = "aes";
        options.Kcp.Key = Key;
        return new KcpConnectionFactory(options);
    }

    private static byte[] Payload(int length)
    {
        var payload = new byte[length];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i * 31 + (i >> 8));
        }

        return payload;
    }

    private static async Task EchoAsync(ConnectionContext connection, int length)
    {
        var payload = Payload(length);
        await connection.Transport.Output.WriteAsync(payload);
        Assert.Equal(payload, await TestWaits.ReadExactlyAsync(connection.Transport.Input, length));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetHealthAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.Clone());
    }
}
