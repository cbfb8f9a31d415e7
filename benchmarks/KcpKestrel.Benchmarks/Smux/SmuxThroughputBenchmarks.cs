using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using KcpKestrel.Smux;

namespace KcpKestrel.Benchmarks.Smux;

/// <summary>
/// smux frame throughput between two sessions over in-memory pipes (no KCP, no socket): each operation moves
/// <see cref="BytesPerOperation"/> from the client's streams to the server's, split over <see cref="Streams"/> streams
/// written concurrently, and ends when the server's readers have consumed all of it. MB/s = 16 MiB / mean time.
/// B/op divided by the frames per operation (512 at 32 KiB frames) is the per-frame allocation.
/// </summary>
[MemoryDiagnoser]
public class SmuxThroughputBenchmarks
{
    public const int BytesPerOperation = 16 << 20;

    private readonly byte[] _chunk = new byte[16 * 1024];
    private SmuxSession _client = null!;
    private SmuxSession _server = null!;
    private SmuxStream[] _streams = [];
    private Task[] _readers = [];
    private long _remaining;
    private TaskCompletionSource _drained = new();

    [Params(1, 16)]
    public int Streams { get; set; }

    [Params(1, 2)]
    public int Version { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var up = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var down = new Pipe(new PipeOptions(useSynchronizationContext: false));
        // kcptun's buffers: the stream window must not be what the benchmark measures.
        var options = new SmuxOptions { Version = Version, KeepAliveDisabled = true, MaxReceiveBuffer = SmuxOptions.KcptunMaxReceiveBuffer, MaxStreamBuffer = SmuxOptions.KcptunMaxStreamBuffer };
        _client = new SmuxSession(new Duplex(down.Reader, up.Writer), isClient: true, options);
        _server = new SmuxSession(new Duplex(up.Reader, down.Writer), isClient: false, options);
        _streams = new SmuxStream[Streams];
        _readers = new Task[Streams];
        for (var i = 0; i < Streams; i++)
        {
            _streams[i] = _client.OpenStreamAsync().AsTask().GetAwaiter().GetResult();
            var accepted = _server.AcceptStreamAsync().AsTask().GetAwaiter().GetResult();
            _readers[i] = DrainAsync(accepted.Input);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark]
    public async Task Transfer()
    {
        _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _remaining, BytesPerOperation);
        var perStream = BytesPerOperation / Streams;
        var writers = new Task[Streams];
        for (var i = 0; i < Streams; i++)
        {
            writers[i] = WriteAsync(_streams[i].Output, perStream);
        }

        await Task.WhenAll(writers).ConfigureAwait(false);
        await _drained.Task.ConfigureAwait(false);
    }

    private async Task WriteAsync(PipeWriter output, int count)
    {
        for (var sent = 0; sent < count; sent += _chunk.Length)
        {
            await output.WriteAsync(_chunk).ConfigureAwait(false);
        }
    }

    private async Task DrainAsync(PipeReader input)
    {
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var length = result.Buffer.Length;
                input.AdvanceTo(result.Buffer.End);
                if (Interlocked.Add(ref _remaining, -length) == 0)
                {
                    _drained.TrySetResult();
                }

                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (IOException)
        {
            // The session closed at cleanup.
        }
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
