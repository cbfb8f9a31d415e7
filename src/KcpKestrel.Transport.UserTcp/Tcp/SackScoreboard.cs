namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// The sender's record of what the peer SACKed above SND.UNA (RFC 2018, RFC 6675 §3's scoreboard, simplified to
/// merged ranges): loss recovery retransmits only the holes between them. The array is allocated at the first
/// SACK block and kept; a connection that never sees loss has none.
/// </summary>
internal struct SackScoreboard
{
    private const int MaxRanges = 16;

    private SackBlock[]? _ranges;
    private int _count;

    /// <summary>Whether anything is SACKed.</summary>
    public readonly bool IsEmpty => _count == 0;

    /// <summary>The end of the highest SACKed range (meaningful when not empty).</summary>
    public readonly uint HighestSacked => _ranges![_count - 1].End;

    /// <summary>Bytes SACKed above SND.UNA.</summary>
    public readonly int SackedBytes
    {
        get
        {
            var sum = 0;
            for (var i = 0; i < _count; i++)
            {
                sum += (int)(_ranges![i].End - _ranges[i].Start);
            }

            return sum;
        }
    }

    /// <summary>
    /// Adds the segment's SACK blocks that lie in (<paramref name="sndUna"/>, <paramref name="sndMax"/>]; bogus
    /// ones (outside, reversed, or D-SACKs below SND.UNA) are ignored. Returns whether any byte was newly SACKed.
    /// </summary>
    public bool Add(in TcpOptions options, uint sndUna, uint sndMax)
    {
        var before = SackedBytes;
        for (var i = 0; i < options.SackCount && i < 4; i++)
        {
            var block = options.Sack[i];
            if (!Sequence.Lt(block.Start, block.End) || !Sequence.Gt(block.Start, sndUna) || Sequence.Gt(block.End, sndMax))
            {
                continue;
            }

            Insert(block.Start, block.End);
        }

        return SackedBytes > before;
    }

    /// <summary>Forgets everything at or below the new SND.UNA.</summary>
    public void AckTo(uint sndUna)
    {
        var drop = 0;
        while (drop < _count && Sequence.Le(_ranges![drop].End, sndUna))
        {
            drop++;
        }

        if (drop > 0)
        {
            Array.Copy(_ranges!, drop, _ranges!, 0, _count - drop);
            _count -= drop;
        }

        if (_count > 0 && Sequence.Lt(_ranges![0].Start, sndUna))
        {
            _ranges[0] = new SackBlock(sndUna, _ranges[0].End);
        }
    }

    /// <summary>
    /// The first hole at or after <paramref name="from"/> below the highest SACKed byte: [start, end) not SACKed.
    /// False when there is none.
    /// </summary>
    public readonly bool NextHole(uint from, out uint start, out uint end)
    {
        for (var i = 0; i < _count; i++)
        {
            if (Sequence.Lt(from, _ranges![i].Start))
            {
                start = from;
                end = _ranges[i].Start;
                return true;
            }

            from = Sequence.Max(from, _ranges[i].End);
        }

        start = end = 0;
        return false;
    }

    /// <summary>Bytes in holes below <paramref name="limit"/> (from <paramref name="sndUna"/> on).</summary>
    public readonly int HoleBytesBelow(uint sndUna, uint limit)
    {
        var sum = 0;
        var from = sndUna;
        for (var i = 0; i < _count && Sequence.Lt(from, limit); i++)
        {
            var holeEnd = Sequence.Min(_ranges![i].Start, limit);
            if (Sequence.Lt(from, holeEnd))
            {
                sum += (int)(holeEnd - from);
            }

            from = Sequence.Max(from, _ranges[i].End);
        }

        return sum;
    }

    /// <summary>Forgets everything (after an RTO, RFC 2018 §8: the receiver may have reneged).</summary>
    public void Clear() => _count = 0;

    private void Insert(uint start, uint end)
    {
        _ranges ??= new SackBlock[MaxRanges];
        var i = 0;
        while (i < _count && Sequence.Lt(_ranges[i].End, start))
        {
            i++;
        }

        var j = i;
        while (j < _count && Sequence.Le(_ranges[j].Start, end))
        {
            start = Sequence.Min(start, _ranges[j].Start);
            end = Sequence.Max(end, _ranges[j].End);
            j++;
        }

        var merged = j - i;
        if (merged == 0 && _count == MaxRanges)
        {
            return; // full: recovery just resends a little more than it must
        }

        var shift = 1 - merged;
        if (shift != 0)
        {
            Array.Copy(_ranges, j, _ranges, j + shift, _count - j);
            _count += shift;
        }

        _ranges[i] = new SackBlock(start, end);
    }
}
