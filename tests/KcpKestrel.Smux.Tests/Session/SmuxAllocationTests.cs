using System.Buffers;
using System.IO.Pipelines;

namespace KcpKestrel.Smux.Tests.Session;

/// <summary>
/// The receive path allocates nothing per frame once warm: header parsing, the core's decision, delivery into the
/// stream's pipe, the application's read and the consumption accounting. v2 adds one UPD per half window read (here
/// every 32 frames), which wakes the write loop; our queue and its value-task source are reused, but the runtime's
/// thread-pool queueing of that wake sometimes grows a queue segment (0 or about 15 B per UPD, run to run), so v2 is
/// held to at most 32 B per UPD (under 1 B per frame).
/// </summary>
[Collection(HeapMeasurementCollection.Name)]
public sealed class SmuxAllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ReceivePath_SteadyState_AllocatesNothingPerFrame(int version)
    {
        var transport = new Pipe();
        var answers = new Pipe();
        var options = new SmuxOptions { Version = version, KeepAliveDisabled = true };
        await using var session = new SmuxSession(DuplexPipes.Create(transport.Reader, answers.Writer), isClient: false, options);
        await transport.Writer.WriteAsync(SmuxSessionBadInputTests.Frame((byte)version, 0, 3, []));
        var stream = await session.AcceptStreamAsync().AsTask().WaitAsync(TestWaits.Bound);
        var draining = DrainAsync(answers.Reader);

        // 64 frames of 1 KiB, fed on this thread straight to the frame parser (the read loop idles on the empty transport).
        var frame = SmuxSessionBadInputTests.Frame((byte)version, 2, 3, new byte[1024]);
        var frames = new byte[64 * frame.Length];
        for (var i = 0; i < 64; i++)
        {
            frame.CopyTo(frames, i * frame.Length);
        }

        var received = 0L;
        void Run(int rounds)
        {
            for (var round = 0; round < rounds; round++)
            {
                var buffer = new ReadOnlySequence<byte>(frames);
                while (session.TryProcessFrame(ref buffer))
                {
                }

                Assert.True(buffer.IsEmpty);
                Assert.True(stream.Input.TryRead(out var result));
                received += result.Buffer.Length;
                stream.Input.AdvanceTo(result.Buffer.End);
            }
        }

        // On a pool thread, as the application's reads run in a server.
        var allocated = await Task.Run(() =>
        {
            Run(200);
            var before = GC.GetAllocatedBytesForCurrentThread();
            Run(200);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });

        var updates = version == 2 ? 400L * 64 * 1024 / (options.MaxStreamBuffer / 2) : 0;
        Assert.InRange(allocated, 0, 32 * updates);
        Assert.Equal(400L * 64 * 1024, received);
        Assert.Null(session.CloseReason);
        await session.DisposeAsync();
        await draining;
    }

    private static async Task DrainAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
