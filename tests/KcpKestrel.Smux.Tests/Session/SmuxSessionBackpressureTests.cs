using System.IO.Pipelines;

namespace KcpKestrel.Smux.Tests.Session;

public sealed class SmuxSessionBackpressureTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Session_ReceiveBufferFull_StopsReadingUntilConsumed(int version)
    {
        var toSession = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var fromSession = new Pipe();
        var options = new SmuxOptions { Version = version, KeepAliveDisabled = true, MaxReceiveBuffer = 65536, MaxStreamBuffer = 65536 };
        await using var session = new SmuxSession(DuplexPipes.Create(toSession.Reader, fromSession.Writer), isClient: false, options);

        var v = (byte)version;
        await toSession.Writer.WriteAsync(new byte[] { v, 0, 0, 0, 3, 0, 0, 0 }.Concat(Data(v, 0)).Concat(Data(v, 1)).ToArray());
        var stream = await session.AcceptStreamAsync().AsTask().WaitAsync(TestWaits.Bound);
        await TestWaits.WaitUntilAsync(() => session.BufferedBytes == 65536, "the buffer to fill");

        // The buffer is full: the session reads no more of the transport until the stream is read.
        await toSession.Writer.WriteAsync(Data(v, 2).Concat(Data(v, 3)).ToArray());
        await Task.Delay(100);
        Assert.Equal(65536, session.BufferedBytes);

        var received = 0L;
        while (received < 4 * 32768)
        {
            var result = await stream.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
            received += result.Buffer.Length;
            stream.Input.AdvanceTo(result.Buffer.End);
        }

        Assert.Equal(4 * 32768, received);
        Assert.Null(session.CloseReason);
    }

    private static byte[] Data(byte version, byte fill) => [version, 2, 0x00, 0x80, 3, 0, 0, 0, .. Enumerable.Repeat(fill, 32768)];
}
