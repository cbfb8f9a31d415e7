using System.Buffers;

namespace KcpKestrel.Http.Tests.Infrastructure;

/// <summary>Builds a <see cref="ReadOnlySequence{T}"/> of several segments, as a pipe hands them out.</summary>
public static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] bytes, IReadOnlyList<int> cuts)
    {
        var bounds = new List<int> { 0 };
        foreach (var cut in cuts)
        {
            if (cut > bounds[^1] && cut < bytes.Length)
            {
                bounds.Add(cut);
            }
        }

        bounds.Add(bytes.Length);
        Segment? first = null;
        Segment? last = null;
        for (var i = 0; i + 1 < bounds.Count; i++)
        {
            var memory = bytes.AsMemory(bounds[i], bounds[i + 1] - bounds[i]);
            if (first is null)
            {
                first = last = new Segment(memory, 0);
            }
            else
            {
                last = last!.Append(memory);
            }
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
