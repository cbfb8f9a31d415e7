using System.IO.Pipelines;
using KcpKestrel.Smux.Tests.Frames;

namespace KcpKestrel.Smux.Tests.Session;

public sealed class SmuxSessionTests
{
    private static SmuxOptions Options(int version) => new() { Version = version, KeepAliveDisabled = true };

    [Theory]
    [InlineData(1, SmuxGoVectors.V1Client, SmuxGoVectors.V1Server)]
    [InlineData(2, SmuxGoVectors.V2Client, SmuxGoVectors.V2Server)]
    public async Task Client_GoExchange_WritesSmuxBytes(int version, string goClient, string goServer)
    {
        var toSession = new Pipe();
        var fromSession = new Pipe();
        await using var session = new SmuxSession(DuplexPipes.Create(toSession.Reader, fromSession.Writer), isClient: true, Options(version));

        var stream = await session.OpenStreamAsync();
        await stream.Output.WriteAsync("hello"u8.ToArray());
        // The peer answers only what it received (its UPD acknowledges our "hello"), so it speaks after our SYN and PSH.
        var opened = await SmuxTestStreams.ReadExactlyAsync(fromSession.Reader, 2 * 8 + 5);
        await toSession.Writer.WriteAsync(Convert.FromHexString(goServer));
        Assert.Equal("world"u8.ToArray(), await TestWaits.ReadToEndAsync(stream.Input));
        // v2 acknowledges "world" with a UPD. The peer's FIN also queued the stream (a writer waiting for window must
        // learn that none will come), so a FIN completed now could overtake that UPD: Go's order is UPD, then FIN.
        var acknowledged = version == 2 ? await SmuxTestStreams.ReadExactlyAsync(fromSession.Reader, 16) : [];
        await stream.Output.CompleteAsync();

        var closed = await SmuxTestStreams.ReadExactlyAsync(fromSession.Reader, goClient.Length / 2 - opened.Length - acknowledged.Length);
        Assert.Equal(goClient, Convert.ToHexStringLower([.. opened, .. acknowledged, .. closed]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Pair_SixteenStreamsEcho_DataIntact(int version)
    {
        var (a, b) = DuplexPipes.CreatePair();
        await using var client = new SmuxSession(a, isClient: true, Options(version));
        await using var server = new SmuxSession(b, isClient: false, Options(version));
        var serving = SmuxTestStreams.ServeEchoAsync(server);

        var exchanges = Enumerable.Range(0, 16).Select(async i => await SmuxTestStreams.ExchangeAsync(await client.OpenStreamAsync(), i, 1 << 20));
        var results = await Task.WhenAll(exchanges).WaitAsync(TestWaits.Bound);

        Assert.All(results, Assert.True);
        await TestWaits.WaitUntilAsync(() => client.StreamCount == 0 && server.StreamCount == 0, "both stream tables to empty");
    }

    [Fact]
    public async Task Session_UnknownCommand_ClosesWithReasonAndFailsStreams()
    {
        var toSession = new Pipe();
        var fromSession = new Pipe();
        await using var session = new SmuxSession(DuplexPipes.Create(toSession.Reader, fromSession.Writer), isClient: false, Options(1));

        await toSession.Writer.WriteAsync(Convert.FromHexString("0100000003000000"));
        var stream = await session.AcceptStreamAsync().AsTask().WaitAsync(TestWaits.Bound);
        await toSession.Writer.WriteAsync(Convert.FromHexString("0109000003000000"));

        await session.Completion.WaitAsync(TestWaits.Bound);
        Assert.Contains("UnknownCommand", session.CloseReason, StringComparison.Ordinal);
        Assert.Equal(1, session.Counters.ProtocolErrors);
        await Assert.ThrowsAsync<IOException>(async () => await stream.Input.ReadAsync());
    }

    [Fact]
    public async Task Session_StreamOutputCompleted_SessionStaysOpen()
    {
        var (a, b) = DuplexPipes.CreatePair();
        await using var client = new SmuxSession(a, isClient: true, Options(2));
        await using var server = new SmuxSession(b, isClient: false, Options(2));
        var serving = SmuxTestStreams.ServeEchoAsync(server);

        Assert.True(await SmuxTestStreams.ExchangeAsync(await client.OpenStreamAsync(), 1, 1000));
        Assert.True(await SmuxTestStreams.ExchangeAsync(await client.OpenStreamAsync(), 2, 1000));

        Assert.Null(client.CloseReason);
        Assert.Null(server.CloseReason);
    }
}
